using System.Buffers.Binary;
using System.Text;

namespace Turbine.Core.Caching;

/// <summary>
/// The bytes a shared cache stores for one answer: a magic number, then each output's name, datatype, shape and data,
/// little-endian and length-prefixed. Decoding checks every length against what is left, so a damaged or foreign value
/// reads as a miss, never as a wrong answer or an exception.
/// </summary>
internal static class CachedOutputsCodec
{
    private const uint Magic = 0x31435254; // "TRC1"
    private const int MaxRank = 16;

    public static byte[] Encode(IReadOnlyList<Tensor> outputs)
    {
        using var stream = new MemoryStream();
        var scratch = new byte[8];
        void Int(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(scratch, value);
            stream.Write(scratch, 0, 4);
        }

        Int(unchecked((int)Magic));
        Int(outputs.Count);
        foreach (var output in outputs)
        {
            var name = Encoding.UTF8.GetBytes(output.Name);
            Int(name.Length);
            stream.Write(name);
            Int((int)output.DataType);
            Int(output.Shape.Length);
            foreach (var dimension in output.Shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(scratch, dimension);
                stream.Write(scratch);
            }

            Int(output.Data.Length);
            stream.Write(output.Data.Span);
        }

        return stream.ToArray();
    }

    /// <summary>Decodes into fresh tensors; false (and nothing allocated that leaks) when the bytes are not a whole, valid answer.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out List<Tensor> outputs)
    {
        outputs = [];
        if (!TryInt(ref bytes, out var magic) || unchecked((uint)magic) != Magic || !TryInt(ref bytes, out var count) || count is < 0 or > 1024)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if (!TryInt(ref bytes, out var nameLength) || nameLength < 0 || nameLength > bytes.Length)
            {
                return Fail(outputs);
            }

            var name = Encoding.UTF8.GetString(bytes[..nameLength]);
            bytes = bytes[nameLength..];
            if (!TryInt(ref bytes, out var type) || !Enum.IsDefined((DataType)type) || !TryInt(ref bytes, out var rank) || rank is < 0 or > MaxRank || bytes.Length < rank * 8)
            {
                return Fail(outputs);
            }

            var shape = new long[rank];
            for (var d = 0; d < rank; d++)
            {
                shape[d] = BinaryPrimitives.ReadInt64LittleEndian(bytes);
                bytes = bytes[8..];
            }

            if (!TryInt(ref bytes, out var length) || length < 0 || length > bytes.Length)
            {
                return Fail(outputs);
            }

            outputs.Add(new Tensor(name, (DataType)type, shape, TensorBuffer.CopyOf(bytes[..length])));
            bytes = bytes[length..];
        }

        return bytes.IsEmpty || Fail(outputs);
    }

    private static bool TryInt(ref ReadOnlySpan<byte> bytes, out int value)
    {
        value = 0;
        if (bytes.Length < 4)
        {
            return false;
        }

        value = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        bytes = bytes[4..];
        return true;
    }

    private static bool Fail(List<Tensor> outputs)
    {
        foreach (var output in outputs)
        {
            output.Dispose();
        }

        outputs.Clear();
        return false;
    }
}
