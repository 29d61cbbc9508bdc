using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Turbine.Core.Execution;

namespace Turbine.Core.Caching;

/// <summary>
/// The in-memory response cache: answers to identical requests of the models that enable it, within a byte budget,
/// the least recently used evicted first. The key is a SHA-256 of the model, the version, every input (name, type,
/// shape, bytes), the outputs asked for and the request parameters that can change an answer, so a cached answer is
/// never served across versions or across reloads of one version. Outputs are stored as copies and handed out as copies: a hit is bit for bit what the
/// model computed.
/// </summary>
public sealed class ResponseCache
{
    /// <summary>Parameters that steer scheduling or encoding, not the answer; they stay out of the key.</summary>
    private static readonly HashSet<string> NeutralParameters =
        new(["priority", "timeout", "binary_data_output", "binary_data", "binary_data_size", "sequence_id"], StringComparer.Ordinal);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private long _bytes;

    /// <summary>
    /// Creates a cache holding at most <paramref name="budgetBytes"/> of outputs in memory (0: none), in front of an
    /// optional <paramref name="shared"/> store that replicas share.
    /// </summary>
    public ResponseCache(long budgetBytes, ISharedResponseStore? shared = null)
    {
        BudgetBytes = Math.Max(0, budgetBytes);
        Shared = shared;
    }

    public long BudgetBytes { get; }

    /// <summary>The store shared between replicas (Redis), behind the in-memory one; null for none.</summary>
    public ISharedResponseStore? Shared { get; }

    /// <summary>Whether answers are cached at all, in memory or shared.</summary>
    public bool IsEnabled => BudgetBytes > 0 || Shared is not null;

    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    internal static string KeyOf(IVersionRunner runner, InferenceRequest request, ValidatedRequest validated)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[8];
        void Text(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            BinaryPrimitives.WriteInt64LittleEndian(number, bytes.Length);
            hash.AppendData(number);
            hash.AppendData(bytes); // length-prefixed, so ("ab","c") and ("a","bc") differ
        }

        void Number(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, value);
            hash.AppendData(number);
        }

        Text(runner.Config.Name);
        Number(runner.Version);
        Text(runner.LoadIdentity); // a version reloaded in place is another model: its answers must not be the old ones
        foreach (var input in validated.Inputs)
        {
            if (input is null)
            {
                Number(-1); // an optional input left out: the key says so, and differs from any input sent
                continue;
            }

            Text(input.Name);
            Number((long)input.DataType);
            Number(input.Shape.Length);
            foreach (var dim in input.Shape)
            {
                Number(dim);
            }

            Number(input.Data.Length);
            hash.AppendData(input.Data.Span);
        }

        foreach (var output in validated.Outputs)
        {
            Text(output.Name);
        }

        foreach (var (name, value) in (request.Parameters ?? []).Where(p => !NeutralParameters.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Text(name);
            Text(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>Copies of the outputs cached under <paramref name="key"/>, freshest use recorded.</summary>
    public bool TryGet(string key, out List<Tensor> outputs)
    {
        outputs = [];
        Entry entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return false;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            entry = node.Value;
        }

        outputs = StoredOutput.Copies(entry.Outputs);
        return true;
    }

    /// <summary>Stores copies of <paramref name="outputs"/>; an answer larger than the whole budget is not cached.</summary>
    public void Put(string key, IReadOnlyList<Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var stored = StoredOutput.Keep(outputs);
        var size = stored.Sum(o => (long)o.Data.Length + 64) + 128; // data plus a rough count of the bookkeeping
        if (size > BudgetBytes)
        {
            return;
        }

        lock (_gate)
        {
            if (_entries.ContainsKey(key))
            {
                return; // the same request, answered twice while neither was cached: both answers are the same
            }

            while (_bytes + size > BudgetBytes && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Key);
                _bytes -= oldest.Value.Size;
            }

            _entries[key] = _recency.AddFirst(new Entry(key, stored, size));
            _bytes += size;
        }
    }

    private sealed record Entry(string Key, StoredOutput[] Outputs, long Size);
}
