/* SPDX-License-Identifier: GPL-2.0 */
/*
 * proc_create_module's two halves: gs_main.c (registry, proc file, handler
 * runs) and gs_hook.c (how the module hears that the OOM killer chose a
 * victim).
 */
#ifndef GS_H
#define GS_H

struct oom_control;

/*
 * The OOM killer chose oc->chosen and kills it once this returns. Called
 * with oom_lock held, in process context: may sleep, every wait bounded.
 */
void gs_victim_chosen(struct oom_control *oc);

/* Start and stop hearing of victims; gs_hook_exit() waits for calls in flight. */
int gs_hook_init(void);
void gs_hook_exit(void);

/* "patched" (the gs-kit kernel patch) or "stock" (an ftrace direct call). */
const char *gs_hook_mode(void);

/* Stock mode: the trampoline at oom_kill_process() entry, and what it calls. */
void gs_stock_trampoline(void);
void gs_stock_entry(struct oom_control *oc);

#endif /* GS_H */
