namespace Turbine.Core.Caching;

/// <summary>
/// An output kept apart from the request that made it (a cached answer, a shared run's result): its own managed copy
/// of the bytes, from which each reader gets tensors of its own to dispose.
/// </summary>
internal sealed record StoredOutput(string Name, DataType DataType, long[] Shape, byte[] Data)
{
    public static StoredOutput[] Keep(IReadOnlyList<Tensor> outputs) =>
        [.. outputs.Select(o => new StoredOutput(o.Name, o.DataType, [.. o.Shape], o.Data.Span.ToArray()))];

    public static List<Tensor> Copies(StoredOutput[] stored)
    {
        var outputs = new List<Tensor>(stored.Length);
        foreach (var output in stored)
        {
            outputs.Add(new Tensor(output.Name, output.DataType, [.. output.Shape], TensorBuffer.CopyOf(output.Data)));
        }

        return outputs;
    }
}
