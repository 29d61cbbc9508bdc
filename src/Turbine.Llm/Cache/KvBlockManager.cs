namespace Turbine.Llm.Cache;

/// <summary>
/// The key/value cache's blocks, as vLLM's paged attention keeps them: a fixed number of blocks of
/// <see cref="BlockTokens"/> tokens each, allocated up front from a byte budget, handed to sequences as they grow and
/// taken back when they end. Full blocks are also a prefix cache: each is named by a hash of its tokens and of every
/// token before it, so a request whose prompt starts like an earlier one's (a system prompt, few-shot examples) reuses
/// those blocks instead of computing them again. A block no sequence uses stays cached until its memory is needed,
/// then the least recently used goes first. Not thread-safe: the engine's loop owns it.
/// </summary>
public sealed class KvBlockManager
{
    private readonly int[] _references;
    private readonly ulong?[] _hashes;
    private readonly Stack<int> _free = new();
    private readonly Dictionary<ulong, int> _cached = [];
    private readonly LinkedList<int> _evictable = new();
    private readonly LinkedListNode<int>?[] _evictableNodes;

    /// <param name="blocks">Blocks the budget holds.</param>
    /// <param name="blockTokens">Tokens a block holds.</param>
    public KvBlockManager(int blocks, int blockTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blocks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockTokens);
        BlockTokens = blockTokens;
        _references = new int[blocks];
        _hashes = new ulong?[blocks];
        _evictableNodes = new LinkedListNode<int>?[blocks];
        for (var block = blocks - 1; block >= 0; block--)
        {
            _free.Push(block);
        }
    }

    /// <summary>The blocks a byte budget holds, for a model whose cache takes <paramref name="bytesPerToken"/> per token (every layer, keys and values).</summary>
    public static int BlocksFor(long budgetBytes, long bytesPerToken, int blockTokens) =>
        (int)Math.Min(int.MaxValue, budgetBytes / Math.Max(1, bytesPerToken * blockTokens));

    /// <summary>Tokens a block holds.</summary>
    public int BlockTokens { get; }

    /// <summary>Blocks in all.</summary>
    public int Capacity => _references.Length;

    /// <summary>Blocks a new sequence could take now: free ones and cached ones no sequence uses.</summary>
    public int Available => _free.Count + _evictable.Count;

    /// <summary>Share of blocks in use by sequences (the KV-cache usage metric).</summary>
    public double Usage => 1 - ((double)Available / Capacity);

    /// <summary>Prompt tokens looked up in the prefix cache, and of those found there (the prefix-cache metrics).</summary>
    public (long Queries, long Hits) PrefixCache { get; private set; }

    /// <summary>Blocks needed to hold <paramref name="tokens"/> tokens.</summary>
    public int BlocksFor(int tokens) => (tokens + BlockTokens - 1) / BlockTokens;

    /// <summary>
    /// Starts a sequence with its prompt: the full blocks its prompt shares with cached ones are reused, the rest are
    /// taken fresh. Null when the blocks it needs are not available (the request waits or is refused); nothing is
    /// taken then.
    /// </summary>
    public BlockTable? Admit(ReadOnlySpan<int> prompt)
    {
        var hashes = PrefixHashes(prompt);
        var reused = new List<int>();
        foreach (var hash in hashes)
        {
            if (!_cached.TryGetValue(hash, out var block))
            {
                break;
            }

            reused.Add(block);
        }

        var needed = BlocksFor(prompt.Length) - reused.Count;
        var reusedIdle = reused.Count(block => _references[block] == 0);
        if (needed > Available - reusedIdle)
        {
            return null;
        }

        PrefixCache = (PrefixCache.Queries + prompt.Length, PrefixCache.Hits + (reused.Count * BlockTokens));
        var table = new BlockTable(prompt.Length, reused.Count * BlockTokens);
        foreach (var block in reused)
        {
            Reference(block);
            table.Blocks.Add(block);
        }

        for (var i = 0; i < needed; i++)
        {
            table.Blocks.Add(Take());
        }

        // The prompt's own full blocks are named once their keys and values exist (Computed), not before: a request
        // admitted in between must not reuse blocks that hold nothing yet.
        for (var i = reused.Count; i < hashes.Count; i++)
        {
            table.Unnamed.Add((i, hashes[i]));
        }

        table.Pending.AddRange(prompt[(hashes.Count * BlockTokens)..]);
        table.LastHash = hashes.Count == 0 ? 0 : hashes[^1];
        return table;
    }

    /// <summary>
    /// A forward pass has computed every token <paramref name="table"/> holds: its full blocks become a prefix others can
    /// share. The engine calls it after each pass, before appending the token the pass sampled.
    /// </summary>
    public void Computed(BlockTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        foreach (var (index, hash) in table.Unnamed)
        {
            Name(table.Blocks[index], hash);
        }

        table.Unnamed.Clear();
    }

    /// <summary>Makes room for one more token; false when no block is available (the engine preempts a sequence).</summary>
    public bool TryAppend(BlockTable table, int token)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Tokens == table.Blocks.Count * BlockTokens)
        {
            if (Available == 0)
            {
                return false;
            }

            table.Blocks.Add(Take());
        }

        table.Pending.Add(token);
        table.Tokens++;
        if (table.Tokens % BlockTokens == 0)
        {
            // A block just filled: once the next forward pass has computed its last token, others can share it.
            var hash = Chain(table.LastHash, table.Pending);
            table.Unnamed.Add((table.Blocks.Count - 1, hash));
            table.LastHash = hash;
            table.Pending.Clear();
        }

        return true;
    }

    /// <summary>Ends a sequence: its blocks go back, the full ones staying cached until their memory is needed.</summary>
    public void Release(BlockTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        foreach (var block in table.Blocks)
        {
            if (--_references[block] > 0)
            {
                continue;
            }

            if (_hashes[block] is null)
            {
                _free.Push(block);
            }
            else
            {
                _evictableNodes[block] = _evictable.AddLast(block);
            }
        }

        table.Blocks.Clear();
    }

    /// <summary>The hashes of the prompt's full blocks, each chained to the one before.</summary>
    private List<ulong> PrefixHashes(ReadOnlySpan<int> prompt)
    {
        var hashes = new List<ulong>(prompt.Length / BlockTokens);
        ulong hash = 0;
        for (var start = 0; start + BlockTokens <= prompt.Length; start += BlockTokens)
        {
            hash = Chain(hash, prompt.Slice(start, BlockTokens));
            hashes.Add(hash);
        }

        return hashes;
    }

    /// <summary>FNV-1a over the previous block's hash and this block's tokens: equal prefixes, equal names.</summary>
    private static ulong Chain(ulong previous, ReadOnlySpan<int> tokens)
    {
        var hash = 14695981039346656037UL ^ previous;
        foreach (var token in tokens)
        {
            hash = (hash ^ (uint)token) * 1099511628211UL;
        }

        return hash;
    }

    private static ulong Chain(ulong previous, List<int> tokens) => Chain(previous, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens));

    private int Take()
    {
        if (_free.TryPop(out var block))
        {
            _references[block] = 1;
            return block;
        }

        // The least recently released cached block gives its memory up; its name goes with it.
        var evicted = _evictable.First!.Value;
        Forget(evicted);
        _references[evicted] = 1;
        return evicted;
    }

    private void Reference(int block)
    {
        if (_references[block]++ == 0 && _evictableNodes[block] is { } node)
        {
            _evictable.Remove(node);
            _evictableNodes[block] = null;
        }
    }

    private void Name(int block, ulong hash)
    {
        if (_cached.TryAdd(hash, block))
        {
            _hashes[block] = hash;
        }
    }

    private void Forget(int block)
    {
        if (_evictableNodes[block] is { } node)
        {
            _evictable.Remove(node);
            _evictableNodes[block] = null;
        }

        if (_hashes[block] is { } hash)
        {
            _cached.Remove(hash);
            _hashes[block] = null;
        }
    }
}

/// <summary>A sequence's blocks, in order, and how many tokens they hold.</summary>
public sealed class BlockTable(int tokens, int cachedTokens)
{
    /// <summary>The blocks, in token order.</summary>
    public List<int> Blocks { get; } = [];

    /// <summary>Tokens held.</summary>
    public int Tokens { get; internal set; } = tokens;

    /// <summary>Leading prompt tokens found in the prefix cache: their keys and values need no computing.</summary>
    public int CachedTokens { get; } = cachedTokens;

    /// <summary>Tokens of the last, unfilled block, to name it once full.</summary>
    internal List<int> Pending { get; } = [];

    /// <summary>Full prompt blocks not yet named in the prefix cache (their prefill has not run): index and name.</summary>
    internal List<(int Index, ulong Hash)> Unnamed { get; } = [];

    /// <summary>The name of the last full block.</summary>
    internal ulong LastHash { get; set; }
}
