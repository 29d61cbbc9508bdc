using System.Globalization;
using Onnx;

namespace Turbine.Onnx.Scanning;

/// <summary>
/// Checks every tensor a model carries (initializers, subgraph initializers, Constant values): external data stays
/// inside the version folder (SECURITY.md A6), the declared shape and type are a size the data really holds, and the
/// sizes stay under the policy's caps. A tensor that declares gigabytes and holds four bytes would have ONNX Runtime
/// allocate or read what was declared.
/// </summary>
internal sealed class InitializerScan(ScanFindings findings, string versionFolder, HashSet<string> externalFiles)
{
    private readonly string _root = versionFolder.EndsWith(Path.DirectorySeparatorChar) ? versionFolder : versionFolder + Path.DirectorySeparatorChar;
    private long _totalBytes;

    public void Run(OnnxModelOutline outline)
    {
        foreach (var initializer in outline.Initializers)
        {
            Check(initializer, $"initializer '{initializer.Name}'");
        }
    }

    /// <summary>Checks one tensor; <paramref name="subject"/> names it in findings.</summary>
    public void Check(InitializerHeader tensor, string subject)
    {
        if (ControlCharacters.InName(tensor.Name))
        {
            findings.Block(ScanFindingKinds.ControlCharacters, subject, "the tensor name holds control characters");
        }

        if (tensor.StringWithControlCharacters is { } text)
        {
            findings.Block(ScanFindingKinds.ControlCharacters, subject, $"a string value holds control characters: {ClientText.Quote(text, 60)}");
        }

        if (!DeclaredSize(tensor, subject, out var elements, out var bytes))
        {
            if (tensor.IsExternal)
            {
                ExternalShortfall(tensor, subject, declaredBytes: 0);
            }

            return;
        }

        _totalBytes += bytes;
        if (bytes > findings.Policy.MaxInitializerBytes)
        {
            findings.Block(ScanFindingKinds.InitializerSize, subject, $"declares {bytes:N0} bytes, over the cap of {findings.Policy.MaxInitializerBytes:N0}");
        }

        var holds = tensor switch
        {
            { IsExternal: true } => ExternalShortfall(tensor, subject, bytes),
            { DataType: (int)TensorProto.Types.DataType.String } => tensor.TypedValues == elements ? null : $"{tensor.TypedValues:N0} strings",
            { RawBytes: >= 0 } => tensor.RawBytes == bytes ? null : $"{tensor.RawBytes:N0} bytes",
            _ => tensor.TypedValues == TypedValuesFor(tensor.DataType, elements) ? null : $"{tensor.TypedValues:N0} values",
        };
        if (holds is not null)
        {
            findings.Block(ScanFindingKinds.DeclaredSize, subject, $"its shape declares {elements:N0} elements ({bytes:N0} bytes) but it holds {holds}");
        }
    }

    /// <summary>After every tensor is checked: the model's total against its cap.</summary>
    public void Finish()
    {
        if (_totalBytes > findings.Policy.MaxTotalBytes)
        {
            findings.Block(ScanFindingKinds.TotalSize, "model", $"its tensors declare {_totalBytes:N0} bytes, over the cap of {findings.Policy.MaxTotalBytes:N0}");
        }
    }

    private bool DeclaredSize(InitializerHeader tensor, string subject, out long elements, out long bytes)
    {
        elements = 1;
        bytes = 0;
        try
        {
            foreach (var dim in tensor.Dims)
            {
                if (dim < 0)
                {
                    findings.Block(ScanFindingKinds.DeclaredSize, subject, $"a dimension is negative ({dim})");
                    return false;
                }

                elements = checked(elements * dim);
            }

            // Strings have no fixed width: their size is what they hold, which the protobuf limit already bounds. Types
            // the scan cannot size are left to ONNX Runtime, which refuses the ones it does not know.
            var bits = ElementBits(tensor.DataType);
            bytes = bits == 0 ? 0 : checked(((elements * bits) + 7) / 8);
            return bits > 0 || tensor.DataType == (int)TensorProto.Types.DataType.String;
        }
        catch (OverflowException)
        {
            findings.Block(ScanFindingKinds.DeclaredSize, subject, $"its shape [{string.Join(", ", tensor.Dims)}] overflows a 64-bit size");
            return false;
        }
    }

    /// <summary>
    /// Checks an external tensor's location (SECURITY.md A6) and returns what its file holds when that is less than
    /// <paramref name="declaredBytes"/>, or null when it holds enough or the location was refused.
    /// </summary>
    private string? ExternalShortfall(InitializerHeader tensor, string subject, long declaredBytes)
    {
        string? location = null;
        long offset = 0;
        long length = -1;
        foreach (var entry in tensor.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset" when !TryParseLength(entry.Value, out offset):
                case "length" when !TryParseLength(entry.Value, out length):
                    findings.Block(ScanFindingKinds.ExternalData, subject, $"external data offset/length '{ClientText.Quote(entry.Value, 40)}' is not a non-negative integer");
                    return null;
            }
        }

        if (string.IsNullOrEmpty(location) || Path.IsPathRooted(location) || location.Contains("..", StringComparison.Ordinal) || location.Contains(':', StringComparison.Ordinal))
        {
            findings.Block(ScanFindingKinds.ExternalData, subject, "external data location must be a plain relative file name inside the version folder");
            return null;
        }

        var fullPath = Path.GetFullPath(Path.Combine(_root, location));
        if (!fullPath.StartsWith(_root, StringComparison.Ordinal))
        {
            findings.Block(ScanFindingKinds.ExternalData, subject, "external data location escapes the version folder");
            return null;
        }

        var file = new FileInfo(fullPath);
        if (!file.Exists || file.LinkTarget is not null)
        {
            findings.Block(ScanFindingKinds.ExternalData, subject, $"external data file '{ClientText.Quote(location)}' is missing or is a link");
            return null;
        }

        externalFiles.Add(fullPath);
        if (offset > file.Length || (length >= 0 && offset + length > file.Length))
        {
            findings.Block(ScanFindingKinds.ExternalData, subject, $"external data offset/length lie past the end of '{ClientText.Quote(location)}'");
            return null;
        }

        var available = length >= 0 ? length : file.Length - offset;
        return declaredBytes > available ? $"{available:N0} bytes in '{ClientText.Quote(location)}'" : null;
    }

    private static bool TryParseLength(string value, out long parsed) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out parsed);

    /// <summary>Bits per element of an ONNX element type; 0 for strings and types the scan does not size.</summary>
    private static int ElementBits(int dataType) => (TensorProto.Types.DataType)dataType switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 32,
        TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64
            or TensorProto.Types.DataType.Complex64 => 64,
        TensorProto.Types.DataType.Complex128 => 128,
        TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 or TensorProto.Types.DataType.Int16
            or TensorProto.Types.DataType.Uint16 => 16,
        TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Bool
            or TensorProto.Types.DataType.Float8E4M3Fn or TensorProto.Types.DataType.Float8E4M3Fnuz
            or TensorProto.Types.DataType.Float8E5M2 or TensorProto.Types.DataType.Float8E5M2Fnuz => 8,
        TensorProto.Types.DataType.Uint4 or TensorProto.Types.DataType.Int4 => 4,
        _ => 0,
    };

    /// <summary>How many values the typed fields hold for <paramref name="elements"/> elements: two floats per complex
    /// number, two 4-bit values per int32.</summary>
    private static long TypedValuesFor(int dataType, long elements) => (TensorProto.Types.DataType)dataType switch
    {
        TensorProto.Types.DataType.Complex64 or TensorProto.Types.DataType.Complex128 => elements * 2,
        TensorProto.Types.DataType.Uint4 or TensorProto.Types.DataType.Int4 => (elements + 1) / 2,
        _ => elements,
    };
}
