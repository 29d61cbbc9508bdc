using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Turbine.Edge.Updates.Tuf;

/// <summary>
/// The canonical JSON that TUF signs (OLPC canonical JSON, as securesystemslib and tuf-js write it): object keys in
/// ordinal order, no insignificant whitespace, strings escaped only for <c>"</c> and <c>\</c>, integers only. Signer
/// and verifier must produce the same bytes from the same value, whoever wrote the file.
/// </summary>
public static class CanonicalJson
{
    /// <summary>The canonical bytes of a JSON value.</summary>
    public static byte[] Encode(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(value, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(JsonElement value, ArrayBufferWriter<byte> output)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                output.Write("{"u8);
                var first = true;
                foreach (var property in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        output.Write(","u8);
                    }

                    first = false;
                    WriteString(property.Name, output);
                    output.Write(":"u8);
                    Write(property.Value, output);
                }

                output.Write("}"u8);
                break;
            case JsonValueKind.Array:
                output.Write("["u8);
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (index++ > 0)
                    {
                        output.Write(","u8);
                    }

                    Write(item, output);
                }

                output.Write("]"u8);
                break;
            case JsonValueKind.String:
                WriteString(value.GetString()!, output);
                break;
            case JsonValueKind.Number:
                // Canonical JSON has no fractions or exponents: a number that is not an integer cannot be signed.
                if (!value.TryGetInt64(out var integer))
                {
                    throw new TufException(TufFailure.Malformed, $"canonical JSON allows integers only, not {value.GetRawText()}");
                }

                output.Write(Encoding.ASCII.GetBytes(integer.ToString(CultureInfo.InvariantCulture)));
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            case JsonValueKind.Null:
                output.Write("null"u8);
                break;
            default:
                throw new TufException(TufFailure.Malformed, $"unexpected JSON {value.ValueKind}");
        }
    }

    private static void WriteString(string text, ArrayBufferWriter<byte> output)
    {
        output.Write("\""u8);
        output.Write(Encoding.UTF8.GetBytes(text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)));
        output.Write("\""u8);
    }
}
