namespace Turbine.Jobs.Definition;

/// <summary>How a job cuts and paces its work.</summary>
public sealed record JobOptions
{
    /// <summary>The defaults.</summary>
    public static JobOptions Default { get; } = new();

    /// <summary>Rows per partition for CSV and JSON lines (Parquet files are cut at row groups).</summary>
    public int PartitionRows { get; init; } = 10_000;

    /// <summary>Rows per inference request; 0 takes the model's <c>max_batch_size</c> (1 for a model that does not batch).</summary>
    public int RowsPerRequest { get; init; }

    /// <summary>Most rows a worker has in requests at once; 0 takes four requests' worth.</summary>
    public int MaxRowsInFlight { get; init; }

    /// <summary>Retries of a request that failed for a passing reason (503, 429, a timeout) before its rows are errors.</summary>
    public int Retries { get; init; } = 3;

    /// <summary>The first retry's delay; each later one doubles it (with jitter).</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The job fails once its row errors pass this share of its rows, in percent.</summary>
    public double MaxErrorPercent { get; init; } = 5;

    /// <summary>Jobs with a higher priority have their partitions leased first.</summary>
    public int Priority { get; init; }

    /// <summary>How long a worker holds a partition without renewing its lease before another may take it.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Largest cell accepted, in bytes (UTF-8 text) or elements (lists); a bigger one is a row error.</summary>
    public int MaxCellBytes { get; init; } = 1 << 20;
}
