# Fuzz /proc/graceful_shutdown: random and mutated writes, each checked
# against a model of the contract (test_programs/proc_fuzz.c). The count
# comes from the kernel command line (gs.count=N, default 10000); the seed
# is fixed so that a failure can be replayed. max_entries=64 so that the
# fuzzer, which also moves it, runs into ENOSPC.
load_module max_entries=64
count=$(cmdline_value gs.count)
seed=$(cmdline_value gs.seed)
/gs/proc_fuzz --writes "${count:-10000}" --seed "${seed:-20250101}" --writers 4
say fuzz_status $?
