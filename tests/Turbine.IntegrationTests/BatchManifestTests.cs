using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Parquet.Serialization;
using Turbine.Jobs.Definition;
using Turbine.Onnx.Tools;
using Turbine.Tests;
using YamlDotNet.RepresentationModel;

namespace Turbine.IntegrationTests;

/// <summary>
/// deploy/kubernetes/batch/indexed-job.yaml checked offline (no API server runs here): read as Kubernetes reads it,
/// its shape checked (an Indexed Job whose pods are non-root with read-only root file systems and take their store's
/// connection from a Secret), and its worker container's command run as the Job would run it: one process per
/// completion index, against a real PostgreSQL and a real S3-compatible store, with the ConfigMap's job definition.
/// </summary>
public sealed class BatchManifestTests : IDisposable
{
    private readonly TestRepository _files = new();

    private static string ManifestPath => Path.Combine(CliProcess.RepositoryRoot(), "deploy", "kubernetes", "batch", "indexed-job.yaml");

    [Fact]
    public void The_manifest_is_an_indexed_job_of_locked_down_workers_with_a_valid_job_definition()
    {
        var (configMap, job) = Read();
        var spec = job["spec"];

        Assert.Equal("batch/v1", Scalar(job, "apiVersion"));
        Assert.Equal("Indexed", Scalar(spec, "completionMode"));
        Assert.Equal(Scalar(spec, "completions"), Scalar(spec, "parallelism"));
        var pod = spec["template"]["spec"];
        Assert.Equal("Never", Scalar(pod, "restartPolicy"));
        Assert.Equal("true", Scalar(pod["securityContext"], "runAsNonRoot"));
        foreach (var container in Sequence(pod, "containers").Concat(Sequence(pod, "initContainers")))
        {
            Assert.Equal("true", Scalar(container["securityContext"], "readOnlyRootFilesystem"));
            Assert.Equal("false", Scalar(container["securityContext"], "allowPrivilegeEscalation"));
        }

        var worker = Sequence(pod, "containers").Single();
        Assert.Equal(["batch", "worker"], Args(worker).Take(2));
        var postgres = Sequence(worker, "env").Single(e => Scalar(e, "name") == "TURBINE_JOBS_POSTGRES");
        Assert.Equal("turbine-jobs", Scalar(postgres["valueFrom"]["secretKeyRef"], "name"));
        Assert.Equal(Scalar(configMap["metadata"], "name"), Scalar(Sequence(pod, "volumes").Single(v => Scalar(v, "name") == "config")["configMap"], "name"));
        var definition = JobDefinitionJson.Read(Scalar(configMap["data"], "job.json"), out var errors);
        Assert.Empty(errors);
        Assert.True(definition!.Input.IsObjectStorage && definition.Output.IsObjectStorage);
    }

    [Fact]
    public async Task The_workers_command_run_once_per_completion_index_scores_the_configured_job()
    {
        var (configMap, job) = Read();
        var definition = JobDefinitionJson.Read(Scalar(configMap["data"], "job.json"), out _)!;
        await using var postgres = await PostgresServer.StartAsync();
        await using var s3 = await S3Server.StartAsync();
        using var client = new AmazonS3Client(new BasicAWSCredentials(S3Server.AccessKey, S3Server.SecretKey),
            new AmazonS3Config { ServiceURL = s3.Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1", RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED, ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED });
        var (inputBucket, inputKey) = Split(definition.Input.Uri);
        var (outputBucket, outputPrefix) = Split(definition.Output.Uri);
        await client.PutBucketAsync(inputBucket);
        const int Rows = 6000;
        var csv = new System.Text.StringBuilder("id,a,b,c,d\n");
        for (var i = 0; i < Rows; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i},{i % 5},0.5,0.25,1\n");
        }

        await client.PutObjectAsync(new PutObjectRequest { BucketName = inputBucket, Key = inputKey, ContentBody = csv.ToString(), UseChunkEncoding = false });

        // What the pod has: the ConfigMap at /config, the pulled model at /models; the Secret's values in the environment.
        _files.Add("mlp", SampleModels.Mlp(), """{ "max_batch_size": 32 }""");
        var config = Directory.CreateDirectory(Path.Combine(_files.Root, "config")).FullName;
        File.WriteAllText(Path.Combine(config, "job.json"), Scalar(configMap["data"], "job.json").Replace("\"partition_rows\": 50000", "\"partition_rows\": 500", StringComparison.Ordinal));
        var pod = job["spec"]["template"]["spec"];
        var worker = Sequence(pod, "containers").Single();
        var environment = Sequence(worker, "env").Where(e => ((YamlMappingNode)e).Children.ContainsKey("value")).ToDictionary(e => Scalar(e, "name"), e => Scalar(e, "value"));
        environment["TURBINE_JOBS_POSTGRES"] = postgres.ConnectionString;
        environment["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey;
        environment["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey;
        environment["TURBINE_JOBS_S3_ENDPOINT"] = s3.Endpoint;
        var args = Args(worker)
            .Select(a => a.Replace("$(JOB_ID)", environment["JOB_ID"], StringComparison.Ordinal).Replace("/config", config, StringComparison.Ordinal).Replace("/models", _files.Root, StringComparison.Ordinal))
            .ToList();

        var completions = int.Parse(Scalar(job["spec"], "completions"), System.Globalization.CultureInfo.InvariantCulture);
        var pods = Enumerable.Range(0, completions)
            .Select(index => CliProcess.Start(new Dictionary<string, string>(environment) { ["JOB_COMPLETION_INDEX"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture) }, [.. args]))
            .ToList();
        foreach (var process in pods)
        {
            using (process)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
                await process.WaitForExitAsync(timeout.Token);
                Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync() + await process.StandardOutput.ReadToEndAsync());
            }
        }

        var ids = new List<long>();
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = outputBucket, Prefix = outputPrefix + "/part-" });
        Assert.Equal(Rows / 500, listed.S3Objects.Count);
        foreach (var part in listed.S3Objects)
        {
            using var response = await client.GetObjectAsync(outputBucket, part.Key);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer);
            buffer.Position = 0;
            ids.AddRange((await ParquetSerializer.DeserializeUntypedAsync(buffer)).Data.Select(r => long.Parse((string)r["id"], System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.Equal(Enumerable.Range(0, Rows).Select(i => (long)i), ids.Order());
    }

    private static (YamlMappingNode ConfigMap, YamlMappingNode Job) Read()
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(ManifestPath))
        {
            stream.Load(reader);
        }

        var documents = stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
        return (documents.Single(d => Scalar(d, "kind") == "ConfigMap"), documents.Single(d => Scalar(d, "kind") == "Job"));
    }

    private static (string Bucket, string Key) Split(string uri)
    {
        var rest = uri["s3://".Length..];
        return (rest[..rest.IndexOf('/', StringComparison.Ordinal)], rest[(rest.IndexOf('/', StringComparison.Ordinal) + 1)..]);
    }

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)]).Value!;

    private static IEnumerable<YamlNode> Sequence(YamlNode node, string key) => (YamlSequenceNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)];

    private static List<string> Args(YamlNode container) => [.. Sequence(container, "args").Select(a => ((YamlScalarNode)a).Value!)];

    public void Dispose() => _files.Dispose();
}
