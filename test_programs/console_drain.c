// SPDX-License-Identifier: GPL-2.0
/*
 * console_drain - wait until everything written to standard output (the
 * guest's serial console) has left it. The guest's init runs it between
 * its last line and "reboot -f": a reboot does not wait for the tty's
 * output buffer, and under load it cut the report short (its kernel log
 * and end markers lost).
 *
 * Usage: console_drain
 */
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	if (tcdrain(STDOUT_FILENO)) {
		perror("console_drain: tcdrain");
		return 1;
	}
	return 0;
}
