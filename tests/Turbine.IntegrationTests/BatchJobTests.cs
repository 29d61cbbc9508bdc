using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Batch jobs as users run them: <c>turbine batch run</c> and <c>batch worker</c> processes over the MLP, killed with
/// SIGKILL at random moments, sharing one job over a real PostgreSQL, and reading and writing a real S3-compatible store.
/// Every check reads the output row by row: each input row in exactly one part (or dead letter), none twice, none lost.
/// </summary>
public sealed class BatchJobTests : IDisposable
{
    private const string MlpConfig = """
        {
          "name": "mlp", "backend": "onnxruntime", "max_batch_size": 8,
          "input": [ { "name": "features", "data_type": "TYPE_FP32", "dims": [ 4 ] } ],
          "output": [ { "name": "probabilities", "data_type": "TYPE_FP32", "dims": [ 3 ] }, { "name": "label", "data_type": "TYPE_INT64", "dims": [] } ]
        }
        """;

    private readonly TestRepository _files = new();

    public BatchJobTests() => _files.Add("mlp", SampleModels.Mlp(), MlpConfig);

    private string Repository => _files.Root;

    /// <summary>A CSV of <paramref name="rows"/> rows keyed by id; every 997th row has a cell that is not a number.</summary>
    private string Input(int rows)
    {
        var random = new Random(11);
        var csv = new StringBuilder("id,a,b,c,d\n");
        for (var i = 0; i < rows; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{i},{(i % 997 == 5 ? "oops" : random.NextSingle().ToString(CultureInfo.InvariantCulture))},{random.NextSingle()},{random.NextSingle()},{random.NextSingle()}\n");
        }

        var path = Path.Combine(_files.Root, "input.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    private static string[] RunArgs(string input, string output, int partitionRows) =>
        ["batch", "run", input, "--model", "mlp", "--repository", "REPO", "--out", output, "--map", "features=a,b,c,d", "--keys", "id", "--partition-rows", partitionRows.ToString(CultureInfo.InvariantCulture),
         "--rows-per-request", "1", "--lease-seconds", "2", "--no-progress"];

    [Fact]
    public async Task Killed_with_sigkill_again_and_again_a_run_resumes_to_the_same_output_with_every_row_exactly_once()
    {
        const int Rows = 40_000;
        var input = Input(Rows);
        var reference = Path.Combine(_files.Root, "reference");
        var chaos = Path.Combine(_files.Root, "chaos");
        await CliProcess.RunAsync([.. RunArgs(input, reference, 400).Select(a => a == "REPO" ? Repository : a)]);

        // Each run is killed once it has published a random few parts, a random moment into the next one, so kills land
        // while partitions are scored, written and renamed; the last run is left to finish. One row a request keeps a
        // partition at a few tens of milliseconds, so the kills land even when a loaded machine wakes this loop late.
        var random = new Random(5);
        var kills = 0;
        for (var attempt = 0; ; attempt++)
        {
            Assert.True(attempt < 60, $"the job never finished after {kills} kills");
            var target = Parts(chaos) + random.Next(1, 8);
            using var run = Start([.. RunArgs(input, chaos, 400).Select(a => a == "REPO" ? Repository : a)]);
            while (!run.HasExited && Parts(chaos) < target)
            {
                await Task.Delay(10);
            }

            await Task.Delay(random.Next(0, 40));
            if (!run.HasExited)
            {
                run.Kill(entireProcessTree: true); // SIGKILL: no handler, no flush, no cleanup
                await run.WaitForExitAsync();
                kills++;
                continue;
            }

            Assert.True(run.ExitCode == 0, await run.StandardError.ReadToEndAsync());
            break;
        }

        Assert.True(kills >= 3, $"only {kills} kills landed");

        // Part for part, byte for byte, what an uninterrupted run wrote; and row by row, each id exactly once.
        var names = Directory.GetFiles(reference, "part-*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(names, Directory.GetFiles(chaos, "part-*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in names)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(reference, name!)), File.ReadAllBytes(Path.Combine(chaos, name!)));
        }

        AssertEveryRowOnce(chaos, Rows);
        Assert.False(Directory.Exists(Path.Combine(chaos, "_temporary")));
    }

    [Fact]
    public async Task Three_worker_processes_share_one_job_over_postgres_and_write_every_row_once()
    {
        await using var postgres = await PostgresServer.StartAsync();
        const int Rows = 40_000;
        var input = Input(Rows);
        var output = Path.Combine(_files.Root, "shared");
        var definition = Path.Combine(_files.Root, "job.json");
        File.WriteAllText(definition, $$$"""
            {"model": "mlp", "input": "{{{input}}}", "output": {"uri": "{{{output}}}", "format": "jsonl"},
             "inputs": {"features": ["a", "b", "c", "d"]}, "keys": ["id"], "options": {"partition_rows": 250, "lease_seconds": 5}}
            """);

        var workers = Enumerable.Range(0, 3)
            .Select(_ => Start("batch", "worker", "--job", "nightly", "--store-postgres", postgres.ConnectionString, "--definition", definition, "--repository", Repository, "--no-progress"))
            .ToList();
        foreach (var worker in workers)
        {
            using (worker)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
                await worker.WaitForExitAsync(timeout.Token);
                Assert.True(worker.ExitCode == 0, await worker.StandardError.ReadToEndAsync());
                Assert.Contains("job nightly: succeeded", await worker.StandardOutput.ReadToEndAsync(), StringComparison.Ordinal);
            }
        }

        var owners = await postgres.QueryAsync("SELECT COUNT(DISTINCT owner) FROM batch_partitions WHERE job = 'nightly' AND state = 'done'");
        Assert.True(int.Parse(owners[0], CultureInfo.InvariantCulture) >= 2, "the partitions were not shared between the workers");
        AssertEveryRowOnce(output, Rows, ".jsonl");
    }

    [Fact]
    public async Task A_job_reads_its_input_from_s3_in_ranges_and_publishes_its_parts_there()
    {
        await using var s3 = await S3Server.StartAsync();
        const int Rows = 3000;
        var input = Input(Rows);
        using var client = new Amazon.S3.AmazonS3Client(
            new Amazon.Runtime.BasicAWSCredentials(S3Server.AccessKey, S3Server.SecretKey),
            new Amazon.S3.AmazonS3Config { ServiceURL = s3.Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1", RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED, ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED });
        await client.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = S3Server.Bucket, Key = "nightly/input.csv", FilePath = input, UseChunkEncoding = false });
        var definition = Path.Combine(_files.Root, "job.json");
        File.WriteAllText(definition, $$$"""
            {"model": "mlp", "input": "s3://{{{S3Server.Bucket}}}/nightly/input.csv", "output": {"uri": "s3://{{{S3Server.Bucket}}}/nightly/scores", "format": "csv"},
             "inputs": {"features": ["a", "b", "c", "d"]}, "keys": ["id"], "options": {"partition_rows": 700}}
            """);
        var environment = new Dictionary<string, string>
        {
            ["TURBINE_JOBS_S3_ENDPOINT"] = s3.Endpoint,
            ["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey,
        };

        var (exitCode, output) = await CliProcess.RunRawAsync(environment, ["batch", "worker", "--job", "s3job", "--store", Path.Combine(_files.Root, "jobs.db"), "--definition", definition, "--repository", Repository, "--no-progress"]);

        Assert.True(exitCode == 0, output);
        var listed = await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = S3Server.Bucket, Prefix = "nightly/scores/" });
        var keys = listed.S3Objects.Select(o => o.Key["nightly/scores/".Length..]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["_SUMMARY.json", "errors/part-00000.jsonl", "errors/part-00001.jsonl", "errors/part-00002.jsonl", "errors/part-00004.jsonl", "part-00000.csv", "part-00001.csv", "part-00002.csv", "part-00003.csv", "part-00004.csv"], keys); // bad rows 5, 1002, 1999 and 2996
        var local = Path.Combine(_files.Root, "downloaded");
        foreach (var key in keys)
        {
            using var response = await client.GetObjectAsync(S3Server.Bucket, "nightly/scores/" + key);
            await response.WriteResponseStreamToFileAsync(Path.Combine(local, key), false, default);
        }

        AssertEveryRowOnce(local, Rows);
    }

    private static int Parts(string output) => Directory.Exists(output) ? Directory.GetFiles(output, "part-*").Length : 0;

    /// <summary>Reads every part and dead letter: each id from 0 to rows-1 exactly once, the bad rows as dead letters.</summary>
    private static void AssertEveryRowOnce(string output, int rows, string extension = ".csv")
    {
        var ids = new List<int>();
        foreach (var part in Directory.GetFiles(output, "part-*" + extension))
        {
            foreach (var line in File.ReadLines(part).Skip(extension == ".csv" ? 1 : 0))
            {
                ids.Add(extension == ".csv"
                    ? int.Parse(line[..line.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture)
                    : int.Parse(JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()!, CultureInfo.InvariantCulture));
            }
        }

        var errors = Directory.GetFiles(Path.Combine(output, "errors")).SelectMany(File.ReadLines).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.All(errors, e => Assert.Contains("is not a number", e.GetProperty("error").GetString(), StringComparison.Ordinal));
        ids.AddRange(errors.Select(e => (int)e.GetProperty("row").GetInt64()));
        Assert.Equal(Enumerable.Range(0, rows), ids.Order());
        Assert.Equal(Enumerable.Range(0, rows).Count(i => i % 997 == 5), errors.Count);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "_SUMMARY.json")));
        Assert.Equal(rows, summary.RootElement.GetProperty("rows").GetInt64());
    }

    private static Process Start(params string[] args) => CliProcess.Start(null, args);

    public void Dispose() => _files.Dispose();
}
