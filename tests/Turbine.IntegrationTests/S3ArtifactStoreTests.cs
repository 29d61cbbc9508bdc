using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Turbine.Onnx.Tools;
using Turbine.Registry;
using Turbine.Server.Registry;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>The registry's artifacts on a real S3-compatible server (s3rver): push, materialize, share blobs, refuse tampering.</summary>
public sealed class S3ArtifactStoreTests : IAsyncLifetime
{
    private readonly TestRepository _files = new();
    private S3Server _s3 = null!;

    public async Task InitializeAsync() => _s3 = await S3Server.StartAsync();

    public async Task DisposeAsync()
    {
        await _s3.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task Versions_pushed_to_s3_materialize_byte_for_byte_and_share_their_blobs()
    {
        var registry = await OpenAsync();
        var first = await PushAsync(registry);
        var second = await PushAsync(registry);

        var folder = await registry.MaterializeAsync(second, Path.Combine(_files.Root, "serving"), null, default);

        Assert.Equal(first.Manifest.Files.Select(f => f.Sha256), second.Manifest.Files.Select(f => f.Sha256));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_files.Root, "mlp", "1", "model.onnx")), File.ReadAllBytes(Path.Combine(folder, "model.onnx")));
        using var client = Client();
        var objects = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3Server.Bucket, Prefix = "team-a/sha256/" });
        Assert.Equal(2, objects.S3Objects.Count); // config and model, stored once for both versions
    }

    [Fact]
    public async Task An_object_changed_in_the_bucket_is_refused_by_its_digest()
    {
        var registry = await OpenAsync();
        var version = await PushAsync(registry);
        var model = version.Manifest.Files.Single(f => f.Path == "files/model.onnx");
        using (var client = Client())
        {
            await client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = S3Server.Bucket, Key = $"team-a/sha256/{model.Sha256[..2]}/{model.Sha256}", ContentBody = "not the model", UseChunkEncoding = false,
            });
        }

        var error = await Assert.ThrowsAsync<RegistryException>(() => registry.MaterializeAsync(version, Path.Combine(_files.Root, "serving"), null, default));

        Assert.Contains("'files/model.onnx' does not match its digest", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_files.Root, "serving", "mlp", "1")));
    }

    [Fact]
    public async Task The_cli_pushes_to_and_pulls_from_s3()
    {
        _files.Add("mlp", SampleModels.Mlp(), """{ "max_batch_size": 8 }""");
        string[] s3 = ["--registry", Path.Combine(_files.Root, "registry"), "--artifacts-s3-bucket", S3Server.Bucket, "--artifacts-s3-endpoint", _s3.Endpoint];
        var environment = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey };

        var push = await CliProcess.RunRawAsync(environment, ["registry", "push", Path.Combine(_files.Root, "mlp"), .. s3]);
        var pull = await CliProcess.RunRawAsync(environment, ["registry", "pull", "mlp", "1", "--repository", Path.Combine(_files.Root, "serving"), .. s3]);

        Assert.True(push.ExitCode == 0, push.Output);
        Assert.True(pull.ExitCode == 0, pull.Output);
        Assert.False(Directory.Exists(Path.Combine(_files.Root, "registry", "artifacts")));
        Assert.True(File.Exists(Path.Combine(_files.Root, "serving", "mlp", "1", "model.onnx")));
    }

    private async Task<ModelRegistry> OpenAsync()
    {
        _files.Add("mlp", SampleModels.Mlp(), """{ "max_batch_size": 8 }""");
        var store = RegistryDatabases.Sqlite(Path.Combine(_files.Root, "registry", "registry.db"), TimeProvider.System);
        await store.MigrateAsync(default);
        var artifacts = new S3ArtifactStore(new S3ArtifactLocation(S3Server.Bucket, _s3.Endpoint, "team-a"), new BasicAWSCredentials(S3Server.AccessKey, S3Server.SecretKey));
        return new ModelRegistry(store, artifacts, TimeProvider.System);
    }

    private Task<ModelVersion> PushAsync(ModelRegistry registry) =>
        registry.PushAsync(new PushRequest("mlp", Path.Combine(_files.Root, "mlp", "1"), Path.Combine(_files.Root, "mlp", "config.json"), "ci"), default);

    private AmazonS3Client Client() => new(
        new BasicAWSCredentials(S3Server.AccessKey, S3Server.SecretKey),
        new AmazonS3Config { ServiceURL = _s3.Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1", RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED, ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED });
}
