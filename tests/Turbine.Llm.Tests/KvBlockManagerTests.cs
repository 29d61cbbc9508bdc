using Turbine.Llm.Cache;

namespace Turbine.Llm.Tests;

public sealed class KvBlockManagerTests
{
    private static int[] Tokens(int count, int start = 0) => [.. Enumerable.Range(start, count)];

    [Fact]
    public void Sequences_take_blocks_as_they_grow_and_give_them_back()
    {
        var cache = new KvBlockManager(blocks: 8, blockTokens: 4);
        var table = cache.Admit(Tokens(6))!;
        Assert.Equal(2, table.Blocks.Count);
        Assert.Equal(6, cache.Available);

        Assert.True(cache.TryAppend(table, 100));
        Assert.True(cache.TryAppend(table, 101));
        Assert.Equal(2, table.Blocks.Count); // 8 tokens fill two blocks exactly
        Assert.True(cache.TryAppend(table, 102));
        Assert.Equal(3, table.Blocks.Count);
        Assert.Equal(9, table.Tokens);
        Assert.Equal(3.0 / 8, cache.Usage, 6);

        cache.Release(table);
        Assert.Equal(8, cache.Available);
        Assert.Equal(0, cache.Usage, 6);
    }

    [Fact]
    public void A_prompt_the_budget_cannot_hold_is_refused_and_takes_nothing()
    {
        var cache = new KvBlockManager(blocks: 4, blockTokens: 4);
        var first = cache.Admit(Tokens(12))!;

        Assert.Null(cache.Admit(Tokens(8, start: 500)));
        Assert.Equal(1, cache.Available);
        Assert.True(cache.TryAppend(first, 1)); // 13 tokens: the fourth block
        Assert.False(cache.TryAppend(first, 2) && cache.TryAppend(first, 3) && cache.TryAppend(first, 4) && cache.TryAppend(first, 5));
    }

    [Fact]
    public void A_shared_prompt_prefix_is_reused_once_computed_and_counted_as_hits()
    {
        var cache = new KvBlockManager(blocks: 16, blockTokens: 4);
        int[] system = Tokens(8, start: 1000);
        var first = cache.Admit([.. system, 1, 2, 3])!;

        var early = cache.Admit([.. system, 7, 8])!; // the first prompt's prefill has not run: nothing to reuse yet
        Assert.Equal(0, early.CachedTokens);
        cache.Release(early);

        cache.Computed(first);
        var second = cache.Admit([.. system, 9, 9, 9, 9, 9])!;

        Assert.Equal(8, second.CachedTokens);
        Assert.Equal(first.Blocks.Take(2), second.Blocks.Take(2));
        Assert.NotEqual(first.Blocks[2], second.Blocks[2]);
        Assert.Equal((11L + 10 + 13, 8L), cache.PrefixCache);

        // A different first block breaks the chain even when later blocks match.
        var other = cache.Admit([.. Tokens(4, start: 1), .. system[4..]])!;
        Assert.Equal(0, other.CachedTokens);
    }

    [Fact]
    public void Cached_blocks_outlive_their_sequence_until_their_memory_is_needed_least_recently_used_first()
    {
        var cache = new KvBlockManager(blocks: 4, blockTokens: 2);
        var a = cache.Admit([1, 2, 3, 4])!; // blocks named (1 2) and (1 2 | 3 4)
        cache.Computed(a);
        cache.Release(a);
        var b = cache.Admit([5, 6])!;
        cache.Computed(b);
        cache.Release(b);
        Assert.Equal(4, cache.Available); // all idle: one free, three cached

        var again = cache.Admit([1, 2, 3, 4])!;
        Assert.Equal(4, again.CachedTokens); // still there
        cache.Release(again);

        // Three fresh blocks: the free one, then the least recently released cached ones ((5 6) first, then (1 2)).
        var big = cache.Admit([9, 9, 9, 9, 9, 9])!;
        Assert.Equal(3, big.Blocks.Count);
        Assert.Equal(0, cache.Admit([5, 6])!.CachedTokens);
    }

    [Fact]
    public void A_generated_block_is_shared_only_after_the_pass_that_computed_it_and_blocks_in_use_are_never_taken()
    {
        var cache = new KvBlockManager(blocks: 4, blockTokens: 2);
        var a = cache.Admit([1, 2, 3])!;
        cache.Computed(a);
        Assert.True(cache.TryAppend(a, 4)); // fills (3 4); its last token is computed by the next pass

        var before = cache.Admit([1, 2, 3, 4])!;
        Assert.Equal(2, before.CachedTokens);
        cache.Release(before);

        cache.Computed(a);
        var after = cache.Admit([1, 2, 3, 4, 5])!;
        Assert.Equal(4, after.CachedTokens);
        Assert.Equal(a.Blocks, after.Blocks.Take(2));

        // Two blocks shared by two live sequences, one fresh: one block left, which a two-block prompt cannot have.
        Assert.Equal(1, cache.Available);
        Assert.Null(cache.Admit([7, 7, 7, 7]));
        cache.Release(a);
        Assert.Equal(1, cache.Available); // still used by the other sequence
    }
}
