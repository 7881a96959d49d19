/**
 * What the kernel module is called and where it shows itself: its name,
 * its object file, its proc file, its sysfs directory and the prefix of
 * its kernel log lines. Every other file takes these names from here.
 */

/** The module's name (lsmod, modprobe, DKMS, /sys/module). */
export const MODULE_NAME = 'proc_create_module';

/** The module's object file, as a build leaves it and an initramfs carries it. */
export const MODULE_FILE = `${MODULE_NAME}.ko`;

/** Where the module keeps its registry. */
export const PROC_FILE = '/proc/graceful_shutdown';

/** The running module's sysfs directory; it exists while the module is loaded. */
export const MODULE_SYSFS = `/sys/module/${MODULE_NAME}`;

/** The running module's parameters, one file each. */
export const MODULE_PARAMS = `${MODULE_SYSFS}/parameters`;

/** The handler word of a waiter's registration ("<pid> @wait"): the writer runs its handler itself. */
export const WAIT_HANDLER = '@wait';

/** What every kernel log line of the module starts with (its pr_fmt). */
export const LOG_PREFIX = 'graceful_shutdown: ';

/** Where a user-space killer (root) asks for a registration's handler before it kills: "<pid> <killer>". */
export const FIRE_FILE = '/proc/graceful_shutdown_fire';

/** Who kills, as the module's log (killer=) and a handler's GS_KILLER name it. */
export const KILLER_NAMES = { kernel: 'kernel', oomd: 'systemd-oomd', earlyoom: 'earlyoom' } as const;

/** The module's timeout_ms and user_timeout_ms when not given (lkm/gs_params.c). */
export const MODULE_TIMEOUT_MS = 5000;
export const MODULE_USER_TIMEOUT_MS = 2000;
