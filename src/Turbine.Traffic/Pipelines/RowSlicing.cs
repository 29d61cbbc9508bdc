namespace Turbine.Traffic.Pipelines;

/// <summary>
/// Takes rows out of batched tensors and puts them back, so that a cascade sends only its unsure rows to the next
/// stage. Only fixed-size datatypes with the rows on the first dimension qualify; anything else escalates whole.
/// </summary>
internal static class RowSlicing
{
    /// <summary>Whether every tensor holds exactly <paramref name="rows"/> rows of fixed-size elements on its first dimension.</summary>
    public static bool CanSplit(IEnumerable<Tensor> tensors, long rows) =>
        rows > 0 && tensors.All(t => t.DataType != DataType.Bytes && t.Shape.Length >= 1 && t.Shape[0] == rows && t.Data.Length % rows == 0);

    /// <summary>A new tensor holding the rows at <paramref name="indices"/>, in that order.</summary>
    public static Tensor Gather(Tensor tensor, IReadOnlyList<int> indices)
    {
        var rowBytes = tensor.Data.Length / (int)tensor.Shape[0];
        var buffer = TensorBuffer.Rent(rowBytes * indices.Count);
        for (var i = 0; i < indices.Count; i++)
        {
            tensor.Data.Span.Slice(indices[i] * rowBytes, rowBytes).CopyTo(buffer.Span[(i * rowBytes)..]);
        }

        return new Tensor(tensor.Name, tensor.DataType, [indices.Count, .. tensor.Shape[1..]], buffer);
    }

    /// <summary>
    /// Writes row i of each source over row <paramref name="indices"/>[i] of the target of the same name; false (and
    /// nothing written) when a target is missing or differs in datatype or row shape.
    /// </summary>
    public static bool TryScatter(IReadOnlyList<Tensor> sources, IReadOnlyList<Tensor> targets, IReadOnlyList<int> indices)
    {
        var pairs = sources.Select(s => (Source: s, Target: targets.FirstOrDefault(t => t.Name == s.Name))).ToList();
        if (pairs.Count != targets.Count || pairs.Any(p => p.Target is null || p.Target.DataType != p.Source.DataType ||
                p.Source.Shape.Length != p.Target.Shape.Length || p.Source.Shape[0] != indices.Count || !p.Source.Shape.AsSpan(1).SequenceEqual(p.Target.Shape.AsSpan(1))))
        {
            return false;
        }

        foreach (var (source, target) in pairs)
        {
            var rowBytes = target!.Data.Length / (int)target.Shape[0];
            for (var i = 0; i < indices.Count; i++)
            {
                source.Data.Span.Slice(i * rowBytes, rowBytes).CopyTo(target.Data.Span[(indices[i] * rowBytes)..]);
            }
        }

        return true;
    }
}
