// The classes start servers on ports found free a moment earlier; run one class at a time so that two of them
// cannot pick the same admin port, and so a machine with two cores is not asked for three servers and a browser
// at once.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
