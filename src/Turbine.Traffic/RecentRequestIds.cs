namespace Turbine.Traffic;

/// <summary>
/// Which arm served each of the last <see cref="Capacity"/> request ids, exactly: a ring of id hashes in arrival order
/// (the oldest leaves when a new one comes) and an open-addressing index from hash to ring position. Both are
/// preallocated arrays of numbers, so remembering an id allocates nothing and leaves the garbage collector idle (a
/// dictionary of strings churning at thousands of requests a second cost a third of a route's throughput).
/// </summary>
internal sealed class RecentRequestIds
{
    /// <summary>How many ids are remembered, as docs/TRAFFIC.md promises.</summary>
    public const int Capacity = 100_000;

    /// <summary>Index slots: a power of two at most 40% full, so probes stay short.</summary>
    private const int IndexSize = 1 << 18;
    private const int IndexMask = IndexSize - 1;

    private readonly Lock _gate = new();
    private readonly long[] _ringHashes = new long[Capacity];
    private readonly byte[] _ringArms = new byte[Capacity];
    private readonly int[] _index = new int[IndexSize]; // ring position + 1; 0 is an empty slot
    private int _head;
    private int _count;

    /// <summary>Remembers that the id hashed to <paramref name="hash"/> was served by <paramref name="arm"/>; a repeated id takes its new arm.</summary>
    public void Remember(long hash, byte arm)
    {
        lock (_gate)
        {
            if (_count == Capacity)
            {
                Forget(_head); // the oldest id's ring position is the one written next
            }
            else
            {
                _count++;
            }

            _ringHashes[_head] = hash;
            _ringArms[_head] = arm;
            var slot = Find(hash);
            if (slot < 0)
            {
                slot = ~slot; // the empty slot where the probe ended
            }

            _index[slot] = _head + 1; // a repeated id now points at its newest position
            _head = _head + 1 == Capacity ? 0 : _head + 1;
        }
    }

    /// <summary>The arm that served the id hashed to <paramref name="hash"/>, if it is among the last <see cref="Capacity"/>.</summary>
    public bool TryFind(long hash, out byte arm)
    {
        lock (_gate)
        {
            var slot = Find(hash);
            arm = slot >= 0 ? _ringArms[_index[slot] - 1] : (byte)0;
            return slot >= 0;
        }
    }

    private static int Home(long hash) => (int)((ulong)hash * 0x9E3779B97F4A7C15UL >> 46) & IndexMask;

    /// <summary>The index slot holding <paramref name="hash"/>, or the complement of the empty slot where it would go.</summary>
    private int Find(long hash)
    {
        for (var slot = Home(hash); ; slot = (slot + 1) & IndexMask)
        {
            var position = _index[slot];
            if (position == 0)
            {
                return ~slot;
            }

            if (_ringHashes[position - 1] == hash)
            {
                return slot;
            }
        }
    }

    /// <summary>Drops ring position <paramref name="position"/> from the index, unless a newer sighting of its id took the slot.</summary>
    private void Forget(int position)
    {
        var slot = Find(_ringHashes[position]);
        if (slot < 0 || _index[slot] - 1 != position)
        {
            return;
        }

        // Backward-shift deletion: later entries of the probe run move up, so no lookup ever stops at a false hole.
        var hole = slot;
        for (var next = (hole + 1) & IndexMask; _index[next] != 0; next = (next + 1) & IndexMask)
        {
            var home = Home(_ringHashes[_index[next] - 1]);
            var reachable = hole <= next ? home <= hole || home > next : home <= hole && home > next;
            if (reachable)
            {
                _index[hole] = _index[next];
                hole = next;
            }
        }

        _index[hole] = 0;
    }
}
