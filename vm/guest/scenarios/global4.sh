# Global OOM, four processes allocating at once, all registered: every
# handler writes its record before its victim is killed.
global_many 4
