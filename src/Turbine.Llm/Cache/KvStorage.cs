namespace Turbine.Llm.Cache;

/// <summary>
/// The memory behind <see cref="KvBlockManager"/>'s blocks: per layer, a key and a value array of
/// [block, heads, block tokens, head width], allocated once. A step gathers each row's cached positions into the dense,
/// left-padded tensors a decoder takes, and scatters the positions it computed back into the row's blocks.
/// </summary>
internal sealed class KvStorage(DecoderSpec spec, int blocks, int blockTokens)
{
    private readonly float[][] _arrays = [.. Enumerable.Range(0, spec.Layers * 2).Select(_ => new float[(long)blocks * spec.KvHeads * blockTokens * spec.HeadWidth])];

    /// <summary>Bytes one cached token takes over every layer, keys and values.</summary>
    public static long BytesPerToken(DecoderSpec spec) => (long)spec.Layers * 2 * spec.PositionWidth * sizeof(float);

    /// <summary>Copies <paramref name="tokens"/> cached positions of a row into its place in the step's past tensors.</summary>
    public void Gather(BlockTable table, int tokens, float[][] past, int row, int pastLength)
    {
        var (heads, width) = (spec.KvHeads, spec.HeadWidth);
        var padding = pastLength - tokens;
        for (var kind = 0; kind < _arrays.Length; kind++)
        {
            var source = _arrays[kind];
            var target = past[kind];
            for (var head = 0; head < heads; head++)
            {
                for (var token = 0; token < tokens; token++)
                {
                    Array.Copy(source, Offset(table, token, head), target, ((((long)row * heads) + head) * pastLength + padding + token) * width, width);
                }
            }
        }
    }

    /// <summary>Copies a row's new positions (the last <paramref name="count"/> of the present tensors) into its blocks from token <paramref name="first"/> on.</summary>
    public void Scatter(BlockTable table, int first, int count, DecoderOutput present, int row, int totalLength)
    {
        var (heads, width) = (spec.KvHeads, spec.HeadWidth);
        for (var kind = 0; kind < _arrays.Length; kind++)
        {
            var source = present.Present(kind);
            var target = _arrays[kind];
            for (var head = 0; head < heads; head++)
            {
                for (var i = 0; i < count; i++)
                {
                    source.Slice((int)(((((long)row * heads) + head) * totalLength + totalLength - count + i) * width), width).CopyTo(target.AsSpan((int)Offset(table, first + i, head), width));
                }
            }
        }
    }

    private long Offset(BlockTable table, int token, int head) =>
        ((((long)table.Blocks[token / blockTokens] * spec.KvHeads) + head) * blockTokens + (token % blockTokens)) * spec.HeadWidth;
}
