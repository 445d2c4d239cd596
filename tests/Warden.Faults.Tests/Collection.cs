// A fault run starts three to five servers and a dozen clients; nothing else of this assembly should compete
// with it for the machine's cores, or its timing bounds turn into flakiness.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
