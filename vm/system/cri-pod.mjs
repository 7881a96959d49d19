#!/usr/bin/env node
// cri-pod.mjs: a minimal Kubernetes CRI client, enough to run one pod the
// way the kubelet would (RunPodSandbox, CreateContainer, StartContainer,
// wait, clean up) against containerd's CRI plugin, in a machine that has
// no crictl (Debian does not package it). Dependency free: Node 20 ESM,
// node: built-ins only, so it runs from the read-only 9p view of the
// checkout with the node binary copied into the test machine.
//
// The CRI is gRPC over a unix socket: HTTP/2 POSTs to
// /runtime.v1.RuntimeService/<Method>, each body one length-prefixed
// protobuf message. The few messages needed are encoded and decoded by
// hand below; field numbers are those of runtime.v1's api.proto
// (k8s.io/cri-api/pkg/apis/runtime/v1/api.proto).
//
//   node cri-pod.mjs [--socket PATH] version
//   node cri-pod.mjs [--socket PATH] run --name NAME --image IMAGE --runtime-handler HANDLER
//       [--pod-annotation k=v]... [--annotation k=v]... [--memory-limit BYTES]
//       [--mount HOSTPATH:CONTAINERPATH]... [--log-dir DIR] [--cgroup-parent PARENT] [--timeout SECONDS] -- COMMAND [ARG...]
//   node cri-pod.mjs selftest
//
// Output: one JSON object on stdout. Errors: a line on stderr, exit code 1.

import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const DEFAULT_SOCKET = '/run/containerd/containerd.sock';
const SERVICE = '/runtime.v1.RuntimeService/';

// Enum values of runtime.v1 used here.
const NamespaceMode = { POD: 0, CONTAINER: 1, NODE: 2 };
const ContainerState = { CREATED: 0, RUNNING: 1, EXITED: 2, UNKNOWN: 3 };

// ---------------------------------------------------------------------------
// Protobuf encoding. A message is the concatenation of its fields; each
// field is a key (field number << 3 | wire type) and a value. Proto3 leaves
// out fields at their default value, and so do these helpers (undefined,
// '', 0, empty list or map), which keeps requests as small as a generated
// client's.

const WIRE = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 };

/** A base-128 varint; negative numbers as their 64-bit two's complement (10 bytes), as int32/int64 are. */
function varint(value) {
	let v = BigInt.asUintN(64, BigInt(value));
	const bytes = [];
	while (v >= 0x80n) {
		bytes.push(Number(v & 0x7fn) | 0x80);
		v >>= 7n;
	}
	bytes.push(Number(v));
	return Buffer.from(bytes);
}

const key = (field, wire) => varint((field << 3) | wire);

/** An integer, bool or enum field. */
function fInt(field, value) {
	if (value === undefined || value === 0 || value === 0n || value === false) return Buffer.alloc(0);
	return Buffer.concat([key(field, WIRE.VARINT), varint(value === true ? 1 : value)]);
}

/** A length-delimited field: bytes, a string or an embedded message (already encoded). */
function fBytes(field, bytes) {
	return Buffer.concat([key(field, WIRE.LEN), varint(bytes.length), bytes]);
}

function fString(field, value) {
	return value ? fBytes(field, Buffer.from(value, 'utf8')) : Buffer.alloc(0);
}

/** An embedded message; absent when undefined (an empty message is still sent: its presence can matter). */
function fMessage(field, encoded) {
	return encoded === undefined ? Buffer.alloc(0) : fBytes(field, encoded);
}

/** A repeated field: one occurrence per element. */
function fRepeated(field, values, encodeOne) {
	return Buffer.concat((values ?? []).map((v) => encodeOne(field, v)));
}

/** A map<string, string>: on the wire a repeated entry message {key = 1, value = 2}. */
function fMap(field, object) {
	return fRepeated(field, Object.entries(object ?? {}), (f, [k, v]) => fBytes(f, message(fString(1, k), fString(2, v))));
}

const message = (...fields) => Buffer.concat(fields);

// ---------------------------------------------------------------------------
// Protobuf decoding, schema free: a message becomes a map from field number
// to the list of its values (a bigint for a varint, a Buffer for the rest),
// and small accessors read them as the caller knows their types. Unknown
// fields of every wire type are skipped by their length, so a newer runtime
// adding fields does not break the reader.

class Reader {
	constructor(buf) {
		this.buf = buf;
		this.pos = 0;
	}
	done() {
		return this.pos >= this.buf.length;
	}
	varint() {
		let result = 0n;
		for (let shift = 0n; shift < 70n; shift += 7n) {
			if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint');
			const b = this.buf[this.pos++];
			result |= BigInt(b & 0x7f) << shift;
			if (!(b & 0x80)) return BigInt.asUintN(64, result);
		}
		throw new Error('protobuf: varint longer than 10 bytes');
	}
	take(n) {
		if (this.pos + n > this.buf.length) throw new Error('protobuf: truncated field');
		const out = this.buf.subarray(this.pos, this.pos + n);
		this.pos += n;
		return out;
	}
	/** One field's value by its wire type; groups (deprecated) are skipped whole and read as undefined. */
	value(field, wire) {
		switch (wire) {
			case WIRE.VARINT:
				return this.varint();
			case WIRE.I64:
				return this.take(8);
			case WIRE.LEN:
				return this.take(Number(this.varint()));
			case WIRE.I32:
				return this.take(4);
			case WIRE.SGROUP:
				this.skipGroup(field);
				return undefined;
			default:
				throw new Error(`protobuf: unexpected wire type ${wire} for field ${field}`);
		}
	}
	skipGroup(field) {
		for (;;) {
			if (this.done()) throw new Error('protobuf: unterminated group');
			const k = Number(this.varint());
			const [f, w] = [k >>> 3, k & 7];
			if (w === WIRE.EGROUP) {
				if (f !== field) throw new Error('protobuf: mismatched end group');
				return;
			}
			this.value(f, w);
		}
	}
}

/** @returns {Map<number, Array<bigint|Buffer>>} */
function decode(buf) {
	const r = new Reader(buf);
	const fields = new Map();
	while (!r.done()) {
		const k = Number(r.varint());
		const [field, wire] = [k >>> 3, k & 7];
		if (field === 0) throw new Error('protobuf: field number 0');
		const v = r.value(field, wire);
		if (v === undefined) continue;
		if (!fields.has(field)) fields.set(field, []);
		fields.get(field).push(v);
	}
	return fields;
}

// Accessors. A singular field sent more than once takes its last value, as protobuf says.
const last = (m, f) => m.get(f)?.at(-1);
const getString = (m, f) => last(m, f)?.toString('utf8') ?? '';
const getInt = (m, f) => Number(BigInt.asIntN(64, last(m, f) ?? 0n)); // int32/int64/enum
const getMessage = (m, f) => decode(last(m, f) ?? Buffer.alloc(0));
const getStrings = (m, f) => (m.get(f) ?? []).map((b) => b.toString('utf8'));
function getMap(m, f) {
	const out = {};
	for (const entry of m.get(f) ?? []) {
		const e = decode(entry);
		out[getString(e, 1)] = getString(e, 2);
	}
	return out;
}

// ---------------------------------------------------------------------------
// runtime.v1 messages: encoders for the requests, decoders for the replies.
// Each comment names the message and its fields used, with their numbers.

/** VersionRequest { string version = 1 } */
const encodeVersionRequest = (version) => message(fString(1, version));

/** VersionResponse { version = 1, runtime_name = 2, runtime_version = 3, runtime_api_version = 4 } */
function decodeVersionResponse(buf) {
	const m = decode(buf);
	return {
		version: getString(m, 1),
		runtimeName: getString(m, 2),
		runtimeVersion: getString(m, 3),
		runtimeApiVersion: getString(m, 4),
	};
}

/** NamespaceOption { NamespaceMode network = 1; pid = 2; ipc = 3 } */
const encodeNamespaceOption = ({ network, pid, ipc }) => message(fInt(1, network), fInt(2, pid), fInt(3, ipc));

/**
 * PodSandboxConfig {
 *   PodSandboxMetadata metadata = 1 { name = 1, uid = 2, namespace = 3, uint32 attempt = 4 };
 *   string hostname = 2; string log_directory = 3; map labels = 6; map annotations = 7;
 *   LinuxPodSandboxConfig linux = 8 { cgroup_parent = 1; LinuxSandboxSecurityContext security_context = 2
 *     { NamespaceOption namespace_options = 1 } }
 * }
 * The pod shares the node's network namespace, as a hostNetwork pod: no CNI plugin is needed.
 */
function encodePodSandboxConfig(pod) {
	const metadata = message(fString(1, pod.name), fString(2, pod.uid), fString(3, pod.namespace), fInt(4, pod.attempt));
	const securityContext = message(fMessage(1, encodeNamespaceOption({ network: NamespaceMode.NODE })));
	const linux = message(fString(1, pod.cgroupParent), fMessage(2, securityContext));
	return message(
		fMessage(1, metadata),
		fString(2, pod.hostname),
		fString(3, pod.logDirectory),
		fMap(6, pod.labels),
		fMap(7, pod.annotations),
		fMessage(8, linux),
	);
}

/** RunPodSandboxRequest { PodSandboxConfig config = 1; string runtime_handler = 2 } */
const encodeRunPodSandboxRequest = (config, handler) => message(fMessage(1, config), fString(2, handler));

/** RunPodSandboxResponse { string pod_sandbox_id = 1 }; CreateContainerResponse { string container_id = 1 } */
const decodeId = (buf) => getString(decode(buf), 1);

/** Requests that carry one id as field 1: Stop/RemovePodSandbox (pod_sandbox_id), StartContainer (container_id). */
const encodeIdRequest = (id) => message(fString(1, id));

/**
 * ContainerConfig {
 *   ContainerMetadata metadata = 1 { name = 1, uint32 attempt = 2 }; ImageSpec image = 2 { image = 1 };
 *   repeated string command = 3; repeated string args = 4; repeated Mount mounts = 7
 *   { container_path = 1, host_path = 2, bool readonly = 3 }; map labels = 9; map annotations = 10;
 *   string log_path = 11;
 *   LinuxContainerConfig linux = 15 { LinuxContainerResources resources = 1 { int64 memory_limit_in_bytes = 4 };
 *     LinuxContainerSecurityContext security_context = 2 { NamespaceOption namespace_options = 3 } }
 * }
 * The whole command line goes in command (the image's entrypoint is replaced, as `command:` in a pod spec).
 */
function encodeContainerConfig(c) {
	const metadata = message(fString(1, c.name), fInt(2, c.attempt));
	const image = message(fString(1, c.image));
	const mount = (f, m) => fBytes(f, message(fString(1, m.containerPath), fString(2, m.hostPath), fInt(3, m.readonly)));
	const resources = message(fInt(4, c.memoryLimit));
	// The kubelet repeats the pod's namespace modes in each container's security context; so do we.
	const securityContext = message(fMessage(3, encodeNamespaceOption({ network: NamespaceMode.NODE })));
	const linux = message(fMessage(1, resources), fMessage(2, securityContext));
	return message(
		fMessage(1, metadata),
		fMessage(2, image),
		fRepeated(3, c.command, fString),
		fRepeated(4, c.args, fString),
		fRepeated(7, c.mounts, mount),
		fMap(9, c.labels),
		fMap(10, c.annotations),
		fString(11, c.logPath),
		fMessage(15, linux),
	);
}

/** CreateContainerRequest { string pod_sandbox_id = 1; ContainerConfig config = 2; PodSandboxConfig sandbox_config = 3 } */
const encodeCreateContainerRequest = (sandboxId, config, sandboxConfig) =>
	message(fString(1, sandboxId), fMessage(2, config), fMessage(3, sandboxConfig));

/** ContainerStatusRequest { string container_id = 1; bool verbose = 2 } */
const encodeContainerStatusRequest = (id, verbose = false) => message(fString(1, id), fInt(2, verbose));

/**
 * ContainerStatusResponse { ContainerStatus status = 1; map info = 2 }
 * ContainerStatus { id = 1; ContainerMetadata metadata = 2; ContainerState state = 3; int64 created_at = 4;
 *   started_at = 5; finished_at = 6; int32 exit_code = 7; ImageSpec image = 8; image_ref = 9; reason = 10;
 *   message = 11; map labels = 12; map annotations = 13; log_path = 15 }
 */
function decodeContainerStatusResponse(buf) {
	const s = getMessage(decode(buf), 1);
	return {
		id: getString(s, 1),
		name: getString(getMessage(s, 2), 1),
		state: getInt(s, 3),
		createdAt: getInt(s, 4),
		startedAt: getInt(s, 5),
		finishedAt: getInt(s, 6),
		exitCode: getInt(s, 7),
		image: getString(getMessage(s, 8), 1),
		imageRef: getString(s, 9),
		reason: getString(s, 10),
		message: getString(s, 11),
		labels: getMap(s, 12),
		annotations: getMap(s, 13),
		logPath: getString(s, 15),
	};
}

// ---------------------------------------------------------------------------
// gRPC over HTTP/2, unary calls only. A message on the wire is a 5-byte
// prefix (compressed flag, big-endian length) and the protobuf bytes; the
// call's outcome is the grpc-status of the trailers, or of the headers when
// the server answers with headers only (an error before any message).

function frame(msg) {
	const prefix = Buffer.alloc(5);
	prefix.writeUInt8(0, 0); // not compressed: we offer no grpc-accept-encoding
	prefix.writeUInt32BE(msg.length, 1);
	return Buffer.concat([prefix, msg]);
}

/** The messages of a response body (all its data, concatenated). */
function unframe(body) {
	const messages = [];
	let pos = 0;
	while (pos < body.length) {
		if (pos + 5 > body.length) throw new Error('grpc: truncated message prefix');
		const compressed = body.readUInt8(pos);
		const length = body.readUInt32BE(pos + 1);
		if (compressed) throw new Error('grpc: compressed message, which was not asked for');
		if (pos + 5 + length > body.length) throw new Error('grpc: truncated message');
		messages.push(body.subarray(pos + 5, pos + 5 + length));
		pos += 5 + length;
	}
	return messages;
}

const GRPC_CODES = [
	'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
	'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
	'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

class GrpcError extends Error {
	constructor(method, code, detail) {
		super(`${method}: gRPC status ${code} (${GRPC_CODES[code] ?? '?'}): ${detail}`);
		this.code = code;
	}
}

/** A connection to the runtime's socket; call() makes one unary call. */
class CriClient {
	constructor(socketPath, { timeoutMs = 120_000, service = SERVICE } = {}) {
		this.service = service;
		this.socketPath = socketPath;
		this.timeoutMs = timeoutMs;
		this.session = http2.connect('http://localhost', { createConnection: () => net.connect(socketPath) });
		// A failed connection (no socket, refused) rejects the calls under way; keep it from being unhandled.
		this.session.on('error', (err) => {
			this.error = new Error(`cannot talk to the runtime at ${socketPath}: ${err.message}`);
		});
	}

	close() {
		this.session.close();
	}

	/** @returns {Promise<Buffer>} the response message */
	call(method, request, timeoutMs = this.timeoutMs) {
		return new Promise((resolve, reject) => {
			if (this.error) return reject(this.error);
			const stream = this.session.request({
				':method': 'POST',
				':path': this.service + method,
				'content-type': 'application/grpc',
				te: 'trailers',
				'grpc-timeout': `${Math.ceil(timeoutMs / 1000)}S`,
			});
			const chunks = [];
			let headers = {};
			let trailers;
			const timer = setTimeout(() => {
				stream.close(http2.constants.NGHTTP2_CANCEL);
				reject(new Error(`${method}: no answer in ${timeoutMs / 1000} s`));
			}, timeoutMs);
			stream.on('response', (h) => (headers = h));
			stream.on('trailers', (t) => (trailers = t));
			stream.on('data', (c) => chunks.push(c));
			stream.on('error', (err) => {
				clearTimeout(timer);
				reject(this.error ?? new Error(`${method} (runtime at ${this.socketPath}): ${err.message}`));
			});
			stream.on('close', () => {
				clearTimeout(timer);
				try {
					resolve(this.#outcome(method, headers, trailers, Buffer.concat(chunks)));
				} catch (err) {
					reject(err);
				}
			});
			stream.end(frame(request));
		});
	}

	#outcome(method, headers, trailers, body) {
		if (this.error) throw this.error;
		const status = headers[':status'];
		if (status !== undefined && status !== 200) throw new Error(`${method}: HTTP status ${status}`);
		const meta = trailers ?? headers; // trailers-only responses put grpc-status in the headers
		if (meta['grpc-status'] === undefined) throw new Error(`${method}: the stream ended with no grpc-status`);
		const code = Number(meta['grpc-status']);
		if (code !== 0) {
			const detail = decodeURIComponent(String(meta['grpc-message'] ?? '')); // grpc-message is percent-encoded
			throw new GrpcError(method, code, detail || '(no message)');
		}
		const messages = unframe(body);
		if (messages.length !== 1) throw new Error(`${method}: ${messages.length} messages in a unary response`);
		return messages[0];
	}
}

// ---------------------------------------------------------------------------
// Commands.

async function version(client) {
	return decodeVersionResponse(await client.call('Version', encodeVersionRequest('v1')));
}

/** Run one container in a pod of its own until it exits; the pod is removed afterwards, whatever happened. */
async function run(client, o) {
	const sandboxConfig = encodePodSandboxConfig({
		name: o.name,
		uid: randomUUID(),
		namespace: 'default',
		attempt: 0,
		// No hostname: the pod shares the node's UTS namespace with its network, as the kubelet's
		// hostNetwork pods do, and runc refuses to set a hostname there.
		logDirectory: o.logDir,
		// A kubelet always names one; runc with systemd cgroups needs a slice.
		cgroupParent: o.cgroupParent,
		annotations: o.podAnnotations,
	});
	const sandboxId = decodeId(await client.call('RunPodSandbox', encodeRunPodSandboxRequest(sandboxConfig, o.runtimeHandler)));
	try {
		const containerConfig = encodeContainerConfig({
			name: o.name,
			image: o.image,
			command: o.command,
			mounts: o.mounts,
			annotations: o.annotations,
			memoryLimit: o.memoryLimit,
			logPath: o.logDir ? `${o.name}.log` : undefined, // relative to the pod's log_directory
		});
		const containerId = decodeId(
			await client.call('CreateContainer', encodeCreateContainerRequest(sandboxId, containerConfig, sandboxConfig)),
		);
		await client.call('StartContainer', encodeIdRequest(containerId));
		const status = await waitForExit(client, containerId, o.timeout);
		return {
			sandboxId,
			containerId,
			exitCode: status.exitCode,
			reason: status.reason,
			message: status.message,
			annotations: status.annotations,
		};
	} finally {
		await removePod(client, sandboxId);
	}
}

/** Poll ContainerStatus every 500 ms, as nothing pushes the exit to a CRI client. */
async function waitForExit(client, containerId, timeoutSeconds) {
	const deadline = Date.now() + timeoutSeconds * 1000;
	for (;;) {
		const status = decodeContainerStatusResponse(
			await client.call('ContainerStatus', encodeContainerStatusRequest(containerId)),
		);
		if (status.state === ContainerState.EXITED) return status;
		if (Date.now() >= deadline) {
			throw new Error(`container ${containerId} did not exit within ${timeoutSeconds} s (state ${status.state})`);
		}
		await sleep(500);
	}
}

/** StopPodSandbox then RemovePodSandbox (which removes its containers); best effort, failures only reported. */
async function removePod(client, sandboxId) {
	for (const method of ['StopPodSandbox', 'RemovePodSandbox']) {
		try {
			await client.call(method, encodeIdRequest(sandboxId));
		} catch (err) {
			process.stderr.write(`cri-pod: warning: ${err.message}\n`);
		}
	}
}

// ---------------------------------------------------------------------------
// Command line.

function usage() {
	return [
		'usage: cri-pod.mjs [--socket PATH] version',
		'       cri-pod.mjs [--socket PATH] run --name NAME --image IMAGE --runtime-handler HANDLER',
		'           [--pod-annotation k=v]... [--annotation k=v]... [--memory-limit BYTES]',
		'           [--mount HOSTPATH:CONTAINERPATH]... [--log-dir DIR] [--timeout SECONDS] -- COMMAND [ARG...]',
		'       cri-pod.mjs selftest',
	].join('\n');
}

function keyValue(option, text) {
	const i = text.indexOf('=');
	if (i <= 0) throw new Error(`${option} wants KEY=VALUE, not ${JSON.stringify(text)}`);
	return [text.slice(0, i), text.slice(i + 1)];
}

function parseMount(text) {
	const i = text.indexOf(':');
	const [hostPath, containerPath] = [text.slice(0, i), text.slice(i + 1)];
	if (i <= 0 || !path.isAbsolute(hostPath) || !path.isAbsolute(containerPath)) {
		throw new Error(`--mount wants HOSTPATH:CONTAINERPATH, both absolute, not ${JSON.stringify(text)}`);
	}
	return { hostPath, containerPath };
}

/** argv (after the script) -> { socket, command, options }. */
function parseArgs(argv) {
	const args = [...argv];
	let socket = DEFAULT_SOCKET;
	while (args[0] === '--socket') {
		args.shift();
		socket = args.shift();
		if (!socket) throw new Error('--socket wants a path');
	}
	const command = args.shift();
	const o = { podAnnotations: {}, annotations: {}, mounts: [], timeout: 300, command: [] };
	while (args.length) {
		const arg = args.shift();
		if (arg === '--') {
			o.command = args.splice(0);
			break;
		}
		const value = () => {
			if (!args.length) throw new Error(`${arg} wants a value`);
			return args.shift();
		};
		switch (arg) {
			case '--socket': socket = value(); break;
			case '--name': o.name = value(); break;
			case '--image': o.image = value(); break;
			case '--runtime-handler': o.runtimeHandler = value(); break;
			case '--log-dir': o.logDir = value(); break;
			case '--cgroup-parent': o.cgroupParent = value(); break;
			case '--pod-annotation': { const [k, v] = keyValue(arg, value()); o.podAnnotations[k] = v; break; }
			case '--annotation': { const [k, v] = keyValue(arg, value()); o.annotations[k] = v; break; }
			case '--mount': o.mounts.push(parseMount(value())); break;
			case '--memory-limit': {
				const v = value();
				if (!/^\d+$/.test(v)) throw new Error(`--memory-limit wants a number of bytes, not ${JSON.stringify(v)}`);
				o.memoryLimit = BigInt(v);
				break;
			}
			case '--timeout': {
				o.timeout = Number(value());
				if (!(o.timeout > 0)) throw new Error('--timeout wants a positive number of seconds');
				break;
			}
			default:
				throw new Error(`unknown argument ${JSON.stringify(arg)}\n${usage()}`);
		}
	}
	if (command === 'run') {
		for (const [k, flag] of [['name', '--name'], ['image', '--image'], ['runtimeHandler', '--runtime-handler']]) {
			if (!o[k]) throw new Error(`run wants ${flag}\n${usage()}`);
		}
		if (!o.command.length) throw new Error(`run wants a command after --\n${usage()}`);
	}
	return { socket, command, o };
}

async function main(argv) {
	const { socket, command, o } = parseArgs(argv);
	if (command === 'selftest') return selftest();
	if (command !== 'version' && command !== 'run') throw new Error(usage());
	// A call waits at least as long as the run may: creating a pod under emulation is slow.
	const client = new CriClient(socket, { timeoutMs: Math.max(120, o.timeout) * 1000 });
	try {
		if (command === 'version') return await version(client);
		return await run(client, o);
	} finally {
		client.close();
	}
}

// ---------------------------------------------------------------------------
// Self-check, with no runtime: the codec on hand-made messages, and the gRPC
// transport against a fake RuntimeService on a unix socket.

async function selftest() {
	// Varints: the edges, and a negative int32 as the 10 bytes protobuf sends.
	assert.deepEqual(varint(0), Buffer.from([0]));
	assert.deepEqual(varint(300), Buffer.from([0xac, 0x02]));
	assert.equal(varint(-1).length, 10);
	assert.equal(new Reader(varint(2n ** 63n)).varint(), 2n ** 63n);

	// A ContainerStatusResponse by hand, as containerd would send it, with
	// fields this reader does not know of every wire type in the way.
	const fixed64 = Buffer.concat([key(90, WIRE.I64), Buffer.alloc(8, 0xff)]);
	const fixed32 = Buffer.concat([key(91, WIRE.I32), Buffer.alloc(4, 0x80)]);
	const group = Buffer.concat([key(92, WIRE.SGROUP), fString(1, 'in a group'), fInt(2, 7), key(92, WIRE.EGROUP)]);
	const status = message(
		fString(1, 'c0ffee'),
		fMessage(2, message(fString(1, 'work'), fInt(2, 1))),
		fixed64,
		fInt(3, ContainerState.EXITED),
		fInt(4, 1700000000000000000n),
		fInt(7, 137),
		fMessage(8, message(fString(1, 'localhost/gs-test:latest'))),
		fixed32,
		fString(10, 'OOMKilled'),
		fString(11, 'out of memory'),
		fMap(13, { 'io.gs-kit.handler': '/app/save', empty: '' }),
		group,
		fMessage(14, message(fString(1, '/data'), fString(2, '/srv/gs'))),
	);
	const response = message(fMessage(1, status), fMap(2, { info: '{"pid":1}' }));
	const s = decodeContainerStatusResponse(response);
	assert.equal(s.id, 'c0ffee');
	assert.equal(s.name, 'work');
	assert.equal(s.state, ContainerState.EXITED);
	assert.equal(s.createdAt, 1700000000000000000);
	assert.equal(s.exitCode, 137);
	assert.equal(s.image, 'localhost/gs-test:latest');
	assert.equal(s.reason, 'OOMKilled');
	assert.equal(s.message, 'out of memory');
	assert.deepEqual(s.annotations, { 'io.gs-kit.handler': '/app/save', empty: '' });
	assert.equal(getMap(decode(response), 2).info, '{"pid":1}');
	// Negative int32, and a state left out because it is the default (CREATED).
	const negative = decodeContainerStatusResponse(message(fMessage(1, message(fInt(7, -1)))));
	assert.equal(negative.exitCode, -1);
	assert.equal(negative.state, ContainerState.CREATED);
	assert.throws(() => decode(Buffer.from([0x0a, 0x05, 0x61])), /truncated/);

	// The requests, read back field by field against api.proto's numbers.
	const podConfig = encodePodSandboxConfig({
		name: 'p', uid: 'u', namespace: 'default', attempt: 0, hostname: 'h', annotations: { a: 'b' },
	});
	const runReq = decode(encodeRunPodSandboxRequest(podConfig, 'runc'));
	assert.equal(getString(runReq, 2), 'runc');
	const pc = getMessage(runReq, 1);
	assert.deepEqual([1, 2, 3].map((f) => getString(getMessage(pc, 1), f)), ['p', 'u', 'default']);
	assert.equal(getString(pc, 2), 'h');
	assert.deepEqual(getMap(pc, 7), { a: 'b' });
	const podNs = getMessage(getMessage(getMessage(pc, 8), 2), 1);
	assert.equal(getInt(podNs, 1), NamespaceMode.NODE);

	const createReq = decode(
		encodeCreateContainerRequest(
			'sb',
			encodeContainerConfig({
				name: 'c', image: 'img', command: ['/bin/sh', '-c', 'exit 3'],
				mounts: [{ hostPath: '/h', containerPath: '/c' }], memoryLimit: 64n << 20n,
			}),
			podConfig,
		),
	);
	assert.equal(getString(createReq, 1), 'sb');
	assert.deepEqual(getMessage(createReq, 3), decode(podConfig));
	const cc = getMessage(createReq, 2);
	assert.equal(getString(getMessage(cc, 1), 1), 'c');
	assert.equal(getString(getMessage(cc, 2), 1), 'img');
	assert.deepEqual(getStrings(cc, 3), ['/bin/sh', '-c', 'exit 3']);
	const m = getMessage(cc, 7);
	assert.deepEqual([getString(m, 1), getString(m, 2)], ['/c', '/h']);
	assert.equal(getInt(getMessage(getMessage(cc, 15), 1), 4), 64 * 2 ** 20);

	// gRPC framing: two messages in one body, and a torn one.
	assert.deepEqual(unframe(Buffer.concat([frame(Buffer.from('ab')), frame(Buffer.alloc(0))])), [Buffer.from('ab'), Buffer.alloc(0)]);
	assert.throws(() => unframe(frame(Buffer.from('abc')).subarray(0, 6)), /truncated/);

	await selftestTransport();
	return { selftest: 'ok' };
}

/** A fake RuntimeService: Version answers, RunPodSandbox fails trailers-only, as containerd does for errors. */
async function selftestTransport() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cri-pod-'));
	const socket = path.join(dir, 'cri.sock');
	const server = http2.createServer();
	server.on('stream', (stream, headers) => {
		const chunks = [];
		stream.on('data', (c) => chunks.push(c));
		stream.on('end', () => {
			const [req] = unframe(Buffer.concat(chunks));
			if (headers[':path'] === `${SERVICE}Version`) {
				stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
				stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
				const reply = message(fString(1, getString(decode(req), 1)), fString(2, 'fake'), fString(4, 'v1'));
				stream.end(frame(reply));
			} else {
				stream.respond(
					{ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'no%20such%20thing' },
					{ endStream: true },
				);
			}
		});
	});
	await new Promise((resolve) => server.listen(socket, resolve));
	const client = new CriClient(socket);
	try {
		const v = await version(client);
		assert.deepEqual(v, { version: 'v1', runtimeName: 'fake', runtimeVersion: '', runtimeApiVersion: 'v1' });
		await assert.rejects(client.call('RunPodSandbox', Buffer.alloc(0)), /status 12 \(UNIMPLEMENTED\): no such thing/);
	} finally {
		client.close();
		await new Promise((resolve) => server.close(resolve));
		fs.rmSync(dir, { recursive: true, force: true });
	}
	// No socket at all: a clear error, not a hang.
	const nowhere = new CriClient(path.join(dir, 'absent.sock'));
	await assert.rejects(version(nowhere), /cannot talk to the runtime|ENOENT/);
	nowhere.close();
}

main(process.argv.slice(2)).then(
	(result) => {
		process.stdout.write(`${JSON.stringify(result)}\n`);
	},
	(err) => {
		process.stderr.write(`cri-pod: ${err.message}\n`);
		process.exitCode = 1;
	},
);
