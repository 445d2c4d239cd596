// Every test here runs three to five servers as processes; two at once would starve each other of the
// machine's cores and turn timing bounds into flakiness, so the whole assembly runs one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
