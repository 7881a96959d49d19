import { GsError } from './errors.js';

/** A "<64 hex>  <name>" line as sha256sum writes it ("*<name>" in binary mode). */
const SUM_LINE = /^([0-9a-fA-F]{64}) [ *](\S.*)$/;

/**
 * The sums of kernel.org's sha256sums.asc: a PGP clear-signed text whose
 * body holds one "<sha256>  <file>" line per release file. Armor headers,
 * the signature block and any other line are ignored (the signature is not
 * checked here). Returns file name -> lowercase hex sum.
 */
export function parseSha256Sums(text: string, source = 'the sums file'): Map<string, string> {
  const sums = new Map<string, string>();
  let inSignature = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('-----BEGIN PGP SIGNATURE-----')) { inSignature = true; continue; }
    if (line.startsWith('-----END PGP SIGNATURE-----')) { inSignature = false; continue; }
    if (inSignature) continue;
    const m = SUM_LINE.exec(line);
    if (!m) continue;
    const sum = m[1]!.toLowerCase();
    const file = m[2]!.trim().replace(/^\.\//, '');
    const seen = sums.get(file);
    if (seen !== undefined && seen !== sum) {
      throw new GsError(
        `${source} lists two different SHA-256 sums for ${file}.`,
        'The sums file is damaged or was tampered with: rerun later, or check the mirror.',
        'checksum',
      );
    }
    sums.set(file, sum);
  }
  return sums;
}

/** The sum published for @file, or a checksum error naming it. */
export function expectedSha256(sums: ReadonlyMap<string, string>, file: string, source = 'the sums file'): string {
  const sum = sums.get(file);
  if (sum === undefined) {
    throw new GsError(
      `${source} has no SHA-256 sum for ${file}, so the download cannot be verified.`,
      'Check that the version exists and the mirror is complete, or use --source PATH|URL or --kernel distro.',
      'checksum',
    );
  }
  return sum;
}

/** A "<sha256>  <file>" line, as parseSha256Sums and `sha256sum -c` read it. */
export function formatSha256Line(sum: string, file: string): string {
  return `${sum.toLowerCase()}  ${file}\n`;
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** A byte count for people: "512 B", "12.3 MiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '? B';
  if (n < 1024) return `${Math.round(n)} B`;
  let value = n;
  let unit: string = 'B';
  for (const u of UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  // 1023.96 KiB would print as "1024.0 KiB": carry into the next unit.
  if (value.toFixed(1) === '1024.0' && unit !== UNITS.at(-1)) {
    value = 1;
    unit = UNITS[UNITS.indexOf(unit as (typeof UNITS)[number]) + 1]!;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** Progress for a task line: "12.3 MiB of 150.0 MiB (8%)", or "12.3 MiB" when the size is unknown. */
export function formatProgress(received: number, total: number | undefined): string {
  if (total === undefined || !(total > 0)) return formatBytes(received);
  const pct = Math.min(100, Math.floor((received / total) * 100));
  return `${formatBytes(received)} of ${formatBytes(total)} (${pct}%)`;
}
