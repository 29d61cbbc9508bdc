using System.Text.Json;
using Turbine.Jobs.Mapping;

namespace Turbine.Jobs.Output;

/// <summary>Writes cells and output values as JSON: an output of one element as that element, others as arrays nested by the row's shape.</summary>
internal static class OutputJson
{
    /// <summary>For files people read: non-ASCII text and quotes as they are, not escaped (the files are not HTML).</summary>
    public static readonly JsonWriterOptions Lines = new() { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>As <see cref="Lines"/>, indented (the summary).</summary>
    public static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteCell(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(s); break;
            case long l: writer.WriteNumberValue(l); break;
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case double d: writer.WriteStringValue(d.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case IReadOnlyList<object?> list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    WriteCell(writer, item);
                }

                writer.WriteEndArray();
                break;
            default: writer.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>The output's value: a scalar for one element, else arrays nested as its shape says.</summary>
    public static void WriteOutput(Utf8JsonWriter writer, RowOutput output)
    {
        if (output.Values.Length == 1)
        {
            WriteElement(writer, output.Values, 0);
            return;
        }

        var index = 0;
        WriteNested(writer, output, 0, ref index);
    }

    /// <summary>The elements as one flat array (KServe's <c>data</c>).</summary>
    public static void WriteFlat(Utf8JsonWriter writer, Array values)
    {
        writer.WriteStartArray();
        for (var i = 0; i < values.Length; i++)
        {
            WriteElement(writer, values, i);
        }

        writer.WriteEndArray();
    }

    private static void WriteNested(Utf8JsonWriter writer, RowOutput output, int dim, ref int index)
    {
        writer.WriteStartArray();
        if (dim >= output.Shape.Length - 1)
        {
            var count = output.Shape.Length == 0 ? output.Values.Length : (int)output.Shape[^1];
            for (var i = 0; i < count && index < output.Values.Length; i++)
            {
                WriteElement(writer, output.Values, index++);
            }
        }
        else
        {
            for (var i = 0; i < output.Shape[dim]; i++)
            {
                WriteNested(writer, output, dim + 1, ref index);
            }
        }

        writer.WriteEndArray();
    }

    private static void WriteElement(Utf8JsonWriter writer, Array values, int index)
    {
        switch (values)
        {
            case float[] f when float.IsFinite(f[index]): writer.WriteNumberValue(f[index]); break;
            case double[] d when double.IsFinite(d[index]): writer.WriteNumberValue(d[index]); break;
            case long[] l: writer.WriteNumberValue(l[index]); break;
            case ulong[] u: writer.WriteNumberValue(u[index]); break;
            case bool[] b: writer.WriteBooleanValue(b[index]); break;
            case string[] s: writer.WriteStringValue(s[index]); break;
            default: writer.WriteStringValue(Convert.ToString(values.GetValue(index), System.Globalization.CultureInfo.InvariantCulture)); break; // NaN and infinities, which JSON has no number for
        }
    }
}
