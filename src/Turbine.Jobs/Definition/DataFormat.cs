namespace Turbine.Jobs.Definition;

/// <summary>The file formats a job reads and writes.</summary>
public enum DataFormat
{
    /// <summary>RFC 4180 CSV with a header row.</summary>
    Csv,

    /// <summary>One JSON object per line.</summary>
    JsonLines,

    /// <summary>Apache Parquet.</summary>
    Parquet,

    /// <summary>One KServe v2 inference request per line in; one KServe v2 response per line out.</summary>
    KServe,
}

/// <summary>Format names as jobs spell them, and the format a file name implies.</summary>
public static class DataFormats
{
    /// <summary>The name of <paramref name="format"/> in a job definition.</summary>
    public static string Name(this DataFormat format) => format switch
    {
        DataFormat.Csv => "csv",
        DataFormat.JsonLines => "jsonl",
        DataFormat.Parquet => "parquet",
        _ => "kserve",
    };

    /// <summary>The extension of the part files written in <paramref name="format"/>.</summary>
    public static string Extension(this DataFormat format) => format switch
    {
        DataFormat.Csv => ".csv",
        DataFormat.Parquet => ".parquet",
        _ => ".jsonl",
    };

    /// <summary>Reads a format name (<c>csv</c>, <c>jsonl</c> or <c>ndjson</c>, <c>parquet</c>, <c>kserve</c>).</summary>
    public static bool TryParse(string? name, out DataFormat format)
    {
        switch (name?.ToLowerInvariant())
        {
            case "csv": format = DataFormat.Csv; return true;
            case "jsonl" or "ndjson" or "json": format = DataFormat.JsonLines; return true;
            case "parquet": format = DataFormat.Parquet; return true;
            case "kserve" or "kserve-jsonl" or "v2": format = DataFormat.KServe; return true;
            default: format = default; return false;
        }
    }

    /// <summary>The format a file's extension implies; null when it implies none.</summary>
    public static DataFormat? FromPath(string path)
    {
        var extension = Path.GetExtension(path.TrimEnd('/')).TrimStart('.');
        return TryParse(extension, out var format) ? format : null;
    }
}
