using System.Buffers;
using System.Security.Cryptography;
using Turbine.Jobs.Mapping;
using Turbine.Jobs.Output;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Execution;

/// <summary>
/// Scores one partition: reads its rows, maps them, sends requests of up to <c>rows_per_request</c> rows with at most
/// <c>max_rows_in_flight</c> rows out at once, retries what failed for a passing reason, isolates the rows a request
/// was refused for, and writes the part and its dead letters to scratch files that are published whole, dead letters
/// first: a part that exists is complete, and its errors are beside it.
/// </summary>
internal sealed class PartitionProcessor(IJobInference inference, IJobStorage storage, TimeProvider time)
{
    /// <summary>
    /// Scores the partition and publishes its files; what it wrote. <paramref name="mayPublish"/> is asked once the
    /// files are written: a job cancelled meanwhile, or a lease taken over, publishes nothing.
    /// </summary>
    /// <exception cref="IOException">Writing failed (the disk is full); nothing of this partition was published.</exception>
    /// <exception cref="OperationCanceledException">Cancelled, or <paramref name="mayPublish"/> said no.</exception>
    public async Task<PartitionResult> ProcessAsync(JobContext job, PartitionSpan span, string owner, Action<long>? progress, Func<CancellationToken, Task<bool>> mayPublish, CancellationToken cancellationToken)
    {
        var cpuBefore = Environment.CpuUsage.TotalTime;
        Core.Observation.UsageAccount.Current = new Core.Observation.UsageAccount(null, job.JobId); // the rows' compute is the job's (cost attribution)
        var results = await ScoreAsync(job, span, progress, cancellationToken);
        var (sha256, bytes, errors) = await WriteAsync(job, span.Index, owner, results, mayPublish, cancellationToken);
        return new PartitionResult(results.Length - errors, errors, sha256, bytes, Environment.CpuUsage.TotalTime - cpuBefore);
    }

    /// <summary>
    /// Reads, maps and sends in one pass: a request leaves as soon as its rows are read, so reading the partition
    /// overlaps the model's work, and at most <c>max_rows_in_flight</c> rows wait for answers.
    /// </summary>
    private async Task<ScoredRow[]> ScoreAsync(JobContext job, PartitionSpan span, Action<long>? progress, CancellationToken cancellationToken)
    {
        var results = new ScoredRow[span.Rows];
        using var inFlight = new SemaphoreSlim(job.MaxRowsInFlight);
        var pending = new List<Task>();
        var group = new List<MappedRow>();
        var groupStart = 0;
        var groupBatch = 0;
        var done = 0L;
        var read = 0;
        var scratch = new ArrayBufferWriter<byte>();
        await foreach (var source in job.Source.ReadAsync(storage, job.Definition.Input.Uri, job.Columns, job.Mapper.ColumnsRead, span, cancellationToken))
        {
            if (read == results.Length)
            {
                throw new InvalidDataException($"partition {span.Index} holds more rows than when the job was planned: the input changed under the job");
            }

            var row = job.Mapper.Map(source, scratch);
            if (row.Error is { } error)
            {
                await SendGroupAsync();
                results[read++] = new ScoredRow(row.Number, row.Keys, null, error, 0);
                groupStart = read;
                progress?.Invoke(Interlocked.Increment(ref done));
                continue;
            }

            // A request takes consecutive rows of one shape, up to rows_per_request batch rows.
            if (group.Count > 0 && (groupBatch + row.Batch > job.RowsPerRequest || !group[0].Fits(row)))
            {
                await SendGroupAsync();
                groupStart = read;
            }

            group.Add(row);
            groupBatch += row.Batch;
            read++;
        }

        await SendGroupAsync();
        if (read != results.Length)
        {
            throw new InvalidDataException($"partition {span.Index} holds {read} rows, {results.Length} when the job was planned: the input changed under the job");
        }

        await Task.WhenAll(pending);
        return results;

        async Task SendGroupAsync()
        {
            if (group.Count == 0)
            {
                return;
            }

            var slots = Math.Min(groupBatch, job.MaxRowsInFlight);
            for (var s = 0; s < slots; s++)
            {
                await inFlight.WaitAsync(cancellationToken);
            }

            pending.Add(SendAndReleaseAsync(groupStart, group, slots));
            group = [];
            groupBatch = 0;
        }

        async Task SendAndReleaseAsync(int first, List<MappedRow> rows, int slots)
        {
            try
            {
                (await SendAsync(job, rows, cancellationToken)).CopyTo(results, first);
                progress?.Invoke(Interlocked.Add(ref done, rows.Count));
            }
            finally
            {
                inFlight.Release(slots);
            }
        }
    }

    /// <summary>One request with its retries; rows the model refused are retried one by one so only the bad ones fail.</summary>
    private async Task<ScoredRow[]> SendAsync(JobContext job, List<MappedRow> rows, CancellationToken cancellationToken)
    {
        var options = job.Definition.Options;
        InferenceError? last = null;
        for (var attempt = 0; attempt <= options.Retries; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(Backoff(options.RetryBackoff, attempt), time, cancellationToken);
            }

            using var request = RequestAssembler.Build(job.Definition.Model, job.Definition.Version, job.Mapper, rows, job.Definition.Outputs);
            var result = await inference.InferAsync(request, cancellationToken);
            if (result.Response is { } response)
            {
                using (response)
                {
                    return RequestAssembler.Split(response, rows, job.Mapper.Batched, job.Definition.Input.Format == Definition.DataFormat.KServe, attempt + 1);
                }
            }

            last = result.Error!;
            if (!IsPassing(last.Code))
            {
                break;
            }
        }

        if (rows.Count > 1 && last is { } refused && !IsPassing(refused.Code))
        {
            var single = new ScoredRow[rows.Count];
            for (var i = 0; i < rows.Count; i++)
            {
                single[i] = (await SendAsync(job, [rows[i]], cancellationToken))[0];
            }

            return single;
        }

        var reason = IsPassing(last!.Code) ? $"still {Describe(last.Code)} after {options.Retries} retries: {last.Message}" : $"the model refused the row ({Describe(last.Code)}): {last.Message}";
        var failed = new ScoredRow[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            failed[i] = new ScoredRow(rows[i].Number, rows[i].Keys, null, reason, options.Retries + 1);
        }

        return failed;
    }

    private async Task<(string Sha256, long Bytes, long Errors)> WriteAsync(JobContext job, int index, string owner, ScoredRow[] results, Func<CancellationToken, Task<bool>> mayPublish, CancellationToken cancellationToken)
    {
        var output = job.Definition.Output.Uri;
        var folder = storage.ScratchFolder(output);
        var unique = $"{index:D5}.{Sanitize(owner)}.{Guid.NewGuid():N}";
        var partPath = Path.Combine(folder, $"part-{unique}.tmp");
        var errorPath = Path.Combine(folder, $"errors-{unique}.tmp");
        try
        {
            long errors = 0;
            await using (var part = PartWriter.Create(job.Definition.Output.Format, Create(partPath), job.Keys, job.Outputs, job.Definition.Model))
            {
                DeadLetterWriter? deadLetters = null;
                try
                {
                    foreach (var row in results)
                    {
                        if (row.Error is null)
                        {
                            await part.WriteAsync(row, cancellationToken);
                        }
                        else
                        {
                            deadLetters ??= new DeadLetterWriter(Create(errorPath), job.Keys);
                            await deadLetters.WriteAsync(row, cancellationToken);
                            errors++;
                        }
                    }

                    await part.CompleteAsync(cancellationToken);
                    if (deadLetters is not null)
                    {
                        await deadLetters.CompleteAsync(cancellationToken);
                    }
                }
                finally
                {
                    if (deadLetters is not null)
                    {
                        await deadLetters.DisposeAsync();
                    }
                }
            }

            var bytes = new FileInfo(partPath).Length;
            string sha256;
            await using (var written = File.OpenRead(partPath))
            {
                sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(written, cancellationToken));
            }

            if (!await mayPublish(cancellationToken))
            {
                throw new OperationCanceledException("the job stopped or the partition's lease was taken over");
            }

            if (errors > 0)
            {
                await storage.PublishAsync(errorPath, output, JobContext.DeadLetterName(index), cancellationToken);
            }

            await storage.PublishAsync(partPath, output, job.PartName(index), cancellationToken);
            return (sha256, bytes, errors);
        }
        finally
        {
            File.Delete(partPath);
            File.Delete(errorPath);
        }
    }

    private static FileStream Create(string path) => new(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);

    private static bool IsPassing(StatusCode code) => code is StatusCode.Unavailable or StatusCode.ResourceExhausted or StatusCode.DeadlineExceeded;

    private static string Describe(StatusCode code) => code switch
    {
        StatusCode.Unavailable => "unavailable (503)",
        StatusCode.ResourceExhausted => "overloaded (429)",
        StatusCode.DeadlineExceeded => "timing out (504)",
        StatusCode.InvalidArgument => "400",
        StatusCode.NotFound => "404",
        _ => "500",
    };

    private static TimeSpan Backoff(TimeSpan first, int attempt) =>
        first * Math.Pow(2, attempt - 1) * (0.5 + Random.Shared.NextDouble());

    private static string Sanitize(string owner) => string.Concat(owner.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-'));
}
