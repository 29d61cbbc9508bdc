using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Execution;
using Turbine.Jobs.Storage;
using Turbine.Jobs.Store;

namespace Turbine.Jobs.Tests;

/// <summary>A job store in a SQLite file and a data folder, in a fresh temporary folder deleted on dispose.</summary>
internal sealed class JobHarness : IDisposable
{
    public JobHarness(TimeProvider? time = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "turbine-job-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Time = time ?? TimeProvider.System;
        var connection = new SqliteConnectionStringBuilder { DataSource = Path.Combine(Root, "jobs.db"), DefaultTimeout = 30, Pooling = false }.ToString();
        using (var wal = new SqliteConnection(connection))
        {
            // As the server's store does: readers never wait for the writer.
            wal.Open();
            using var pragma = wal.CreateCommand();
            pragma.CommandText = "PRAGMA journal_mode=WAL";
            pragma.ExecuteNonQuery();
        }

        Store = new SqlJobStore(() => new SqliteConnection(connection), JobSqlDialect.Sqlite, Time);
        Store.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        Storage = new LocalJobStorage();
        Control = new JobControl(Store, Storage, Time);
    }

    public string Root { get; }

    public TimeProvider Time { get; }

    public SqlJobStore Store { get; }

    public IJobStorage Storage { get; set; }

    public JobControl Control { get; }

    public string Output => Path.Combine(Root, "out");

    public string Write(string name, string content)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A job on the fake model: x from columns a, b, c of <paramref name="input"/>, keyed by id.</summary>
    public JobDefinition Job(string input, DataFormat format = DataFormat.Csv, DataFormat? output = null, JobOptions? options = null, IReadOnlyList<InputMapping>? inputs = null, IReadOnlyList<string>? keys = null) =>
        new(FakeInference.Model, null, new DataLocation(input, format), new DataLocation(Output, output ?? format),
            inputs ?? [new InputMapping("x", ["a", "b", "c"])], keys ?? ["id"], [], options ?? JobOptions.Default with { PartitionRows = 4 });

    public JobWorker Worker(IJobInference inference, string? owner = null) =>
        new(Store, Storage, inference, Time, NullLogger.Instance, owner) { PollInterval = TimeSpan.FromMilliseconds(20) };

    /// <summary>Submits <paramref name="job"/> and runs one worker on it to the end.</summary>
    public async Task<JobRecord> RunAsync(JobDefinition job, IJobInference inference, string id = "job")
    {
        var (outcome, message, _) = await Control.SubmitAsync(job, id, CancellationToken.None);
        Assert.True(outcome == JobChange.Done, message);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Worker(inference).RunAsync(id, timeout.Token);
        return (await Store.GetAsync(id, CancellationToken.None))!;
    }

    /// <summary>The lines of every part file, in part order, without their headers (CSV) .</summary>
    public List<string> PartLines(string extension = ".csv") =>
        [.. Directory.GetFiles(Output, "part-*" + extension).Order(StringComparer.Ordinal).SelectMany(f => File.ReadAllLines(f).Skip(extension == ".csv" ? 1 : 0))];

    public List<string> DeadLetters() =>
        !Directory.Exists(Path.Combine(Output, "errors")) ? [] : [.. Directory.GetFiles(Path.Combine(Output, "errors")).Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines)];

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still open after a failed test; the temp folder is cleaned eventually.
        }
    }
}
