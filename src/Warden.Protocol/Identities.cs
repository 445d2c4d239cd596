namespace Warden.Protocol;

/// <summary>A transaction id: the leader epoch in the high 32 bits, a counter in the low 32.</summary>
public readonly record struct Zxid(long Value) : IComparable<Zxid>
{
    public static readonly Zxid Zero = new(0);

    public static Zxid From(int epoch, long counter) => new(((long)epoch << 32) | (counter & 0xffffffffL));

    public int Epoch => (int)(Value >> 32);
    public long Counter => Value & 0xffffffffL;

    public Zxid Next() => new(Value + 1);

    public int CompareTo(Zxid other) => Value.CompareTo(other.Value);
    public static bool operator <(Zxid left, Zxid right) => left.Value < right.Value;
    public static bool operator >(Zxid left, Zxid right) => left.Value > right.Value;
    public static bool operator <=(Zxid left, Zxid right) => left.Value <= right.Value;
    public static bool operator >=(Zxid left, Zxid right) => left.Value >= right.Value;

    public override string ToString() => "0x" + Value.ToString("x");
}

/// <summary>A client session's 64-bit id; the top byte is the id of the server that created it.</summary>
public readonly record struct SessionId(long Value)
{
    public static readonly SessionId None = new(0);

    public override string ToString() => "0x" + Value.ToString("x");
}
