using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Turbine.Core.Lifecycle;
using Turbine.Custom;
using Turbine.Onnx.Tools;

namespace Turbine.IntegrationTests;

/// <summary>
/// Custom C# models on a real server (the <c>dotnet</c> backend): a tokenizer compiled from source at load as a
/// pipeline's first step, a model that calls two others (BLS), a prebuilt assembly with two classes and one chosen,
/// the model's own faults as that request's 500, bad folders failing alone with the reason, unload collecting the
/// model's assemblies, and the whole backend refused when the server does not enable it.
/// </summary>
public sealed class CustomModelServingTests : IAsyncLifetime
{
    /// <summary>TEXT (one string) → IDS: its length and first three characters' codes, as the AddSub models take them.</summary>
    private const string Tokenizer = """
        using Turbine;

        public sealed class Tokenizer : ICustomModel
        {
            public ValueTask<IReadOnlyList<Tensor>> ExecuteAsync(CustomModelRequest request, CancellationToken cancellationToken)
            {
                var text = request.Input("TEXT").ToStrings()[0];
                int[] ids = [text.Length, .. text.PadRight(3).Take(3).Select(c => (int)c)];
                return ValueTask.FromResult<IReadOnlyList<Tensor>>([Tensor.FromArray<int>("IDS", [1, 4], ids)]);
            }
        }
        """;

    /// <summary>X → SUM = (X + X) from one model plus (X - 1) from another: 3X - 1.</summary>
    private const string Combiner = """
        using Turbine;

        public sealed class Combiner : ICustomModel
        {
            private IModelClient _models = null!;

            public ValueTask InitializeAsync(CustomModelContext context, CancellationToken cancellationToken)
            {
                _models = context.Models;
                return ValueTask.CompletedTask;
            }

            public async ValueTask<IReadOnlyList<Tensor>> ExecuteAsync(CustomModelRequest request, CancellationToken cancellationToken)
            {
                var x = request.Input("X");
                var rows = x.Shape[0];
                using var doubled = await CallAsync("add_a", x.ToArray<int>(), x.ToArray<int>(), rows, cancellationToken);
                using var lowered = await CallAsync("add_b", x.ToArray<int>(), Enumerable.Repeat(1, x.ToArray<int>().Length).ToArray(), rows, cancellationToken);
                var sum = doubled.Outputs.Single(o => o.Name == "OUTPUT0").ToArray<int>().Zip(lowered.Outputs.Single(o => o.Name == "OUTPUT1").ToArray<int>(), (a, b) => a + b).ToArray();
                return [Tensor.FromArray<int>("SUM", [rows, 4], sum)];
            }

            private async Task<InferenceResponse> CallAsync(string model, int[] a, int[] b, long rows, CancellationToken cancellationToken)
            {
                using var call = new InferenceRequest { ModelName = model };
                call.Inputs.Add(Tensor.FromArray<int>("INPUT0", [rows, 4], a));
                call.Inputs.Add(Tensor.FromArray<int>("INPUT1", [rows, 4], b));
                return await _models.InferAsync(call, cancellationToken);
            }
        }
        """;

    /// <summary>Two classes, so the configuration names one; the other answers differently.</summary>
    private const string TwoClasses = """
        using Turbine;

        namespace Shop;

        public sealed class Plus : ICustomModel
        {
            public ValueTask<IReadOnlyList<Tensor>> ExecuteAsync(CustomModelRequest request, CancellationToken cancellationToken) =>
                ValueTask.FromResult<IReadOnlyList<Tensor>>([Tensor.FromArray<int>("Y", [1], [request.Input("X").ToArray<int>()[0] + 1])]);
        }

        public sealed class Minus : ICustomModel
        {
            public ValueTask<IReadOnlyList<Tensor>> ExecuteAsync(CustomModelRequest request, CancellationToken cancellationToken) =>
                ValueTask.FromResult<IReadOnlyList<Tensor>>([Tensor.FromArray<int>("Y", [1], [request.Input("X").ToArray<int>()[0] - 1])]);
        }
        """;

    /// <summary>Faults of the model's own: it throws for X = 0, answers the wrong type for X = 1, leaves Y out for X = 2.</summary>
    private const string Faulty = """
        using Turbine;

        public sealed class Faulty : ICustomModel
        {
            public ValueTask<IReadOnlyList<Tensor>> ExecuteAsync(CustomModelRequest request, CancellationToken cancellationToken)
            {
                var x = request.Input("X").ToArray<int>()[0];
                IReadOnlyList<Tensor> outputs = x switch
                {
                    0 => throw new InvalidOperationException("a bug in the model"),
                    1 => [Tensor.FromArray<float>("Y", [1], [1f])],
                    2 => [],
                    3 => throw new InferenceException(InferenceError.Invalid("X must not be 3")),
                    _ => [Tensor.FromArray<int>("Y", [1], [x])],
                };
                return ValueTask.FromResult(outputs);
            }
        }
        """;

    /// <summary>Calls itself: refused at once rather than waiting for its own (only) instance.</summary>
    private const string Recursive = """
        public sealed class Recursive : ICustomModel
        {
            private IModelClient _models = null!;

            public ValueTask InitializeAsync(CustomModelContext context, CancellationToken cancellationToken)
            {
                _models = context.Models;
                return ValueTask.CompletedTask;
            }

            public async ValueTask<IReadOnlyList<Tensor>> ExecuteAsync(CustomModelRequest request, CancellationToken cancellationToken)
            {
                using var again = new InferenceRequest { ModelName = "recursive" };
                again.Inputs.Add(Tensor.FromArray<int>("X", [1], request.Input("X").ToArray<int>()));
                using var response = await _models.InferAsync(again, cancellationToken);
                return [Tensor.FromArray<int>("Y", [1], response.Outputs[0].ToArray<int>())];
            }
        }
        """;

    private const string ScalarInOut = """
        { "backend": "dotnet", "default_model_filename": "model.cs",
          "input": [{ "name": "X", "data_type": "TYPE_INT32", "dims": [1] }], "output": [{ "name": "Y", "data_type": "TYPE_INT32", "dims": [1] }] }
        """;

    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        var addSub = SampleModels.AddSub(DataType.Int32, 4);
        _server.Folder.Add("add_a", addSub, """{ "max_batch_size": 8 }""").Add("add_b", addSub, """{ "max_batch_size": 8 }""");
        Write("tokenize", Tokenizer, """
            { "backend": "dotnet", "default_model_filename": "model.cs",
              "input": [{ "name": "TEXT", "data_type": "TYPE_STRING", "dims": [1] }], "output": [{ "name": "IDS", "data_type": "TYPE_INT32", "dims": [1, 4] }] }
            """);
        Write("combine", Combiner, """
            { "backend": "dotnet", "default_model_filename": "model.cs", "max_batch_size": 8, "instance_group": [{ "count": 2 }],
              "input": [{ "name": "X", "data_type": "TYPE_INT32", "dims": [4] }], "output": [{ "name": "SUM", "data_type": "TYPE_INT32", "dims": [4] }] }
            """);
        Write("faulty", Faulty, ScalarInOut);
        Write("recursive", Recursive, ScalarInOut);
        Write("broken", "public sealed class Broken : Turbine.ICustomModel { }", ScalarInOut);
        Directory.CreateDirectory(Path.Combine(_server.Folder.Root, "prebuilt", "1"));
        File.WriteAllBytes(Path.Combine(_server.Folder.Root, "prebuilt", "1", "model.dll"), CompileToAssembly(TwoClasses));
        File.WriteAllText(Path.Combine(_server.Folder.Root, "prebuilt", "config.json"), ScalarInOut.Replace("\"default_model_filename\": \"model.cs\",", "\"dotnet\": { \"class\": \"Shop.Minus\" },", StringComparison.Ordinal));
        _server.Configuration.AddRange(
        [
            "--Turbine:CustomModels:Enabled=true",
            "--Turbine:Pipelines:scored:steps:0:name=prep", "--Turbine:Pipelines:scored:steps:0:model=tokenize",
            "--Turbine:Pipelines:scored:steps:0:input_map:TEXT=text", "--Turbine:Pipelines:scored:steps:0:output_map:IDS=ids",
            "--Turbine:Pipelines:scored:steps:1:name=add", "--Turbine:Pipelines:scored:steps:1:model=add_a",
            "--Turbine:Pipelines:scored:steps:1:input_map:INPUT0=ids", "--Turbine:Pipelines:scored:steps:1:input_map:INPUT1=ids",
            "--Turbine:Pipelines:scored:steps:1:output_map:OUTPUT0=doubled",
        ]);
        await _server.StartAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task A_tokenizer_compiled_from_source_is_a_pipeline_step_in_front_of_an_onnx_model()
    {
        using var response = await PostAsync("scored", """{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["hey"]}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        int[] expected = [6, 2 * 'h', 2 * 'e', 2 * 'y'];
        Assert.Equal(expected, Output(await response.Content.ReadAsStringAsync(), "doubled"));
    }

    [Fact]
    public async Task A_model_that_calls_two_others_answers_with_both_and_batches()
    {
        var requests = Enumerable.Range(0, 8).Select(async i =>
        {
            using var response = await PostAsync("combine", $$"""{"inputs":[{"name":"X","shape":[2,4],"datatype":"INT32","data":[{{i}},1,2,3,4,5,6,7]}]}""");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            int[] expected = [3 * i - 1, 2, 5, 8, 11, 14, 17, 20];
            Assert.Equal(expected, Output(await response.Content.ReadAsStringAsync(), "SUM"));
        });
        await Task.WhenAll(requests);

        var statistics = await _server.GetJsonAsync("v2/models/add_b/stats");
        Assert.Equal(8, statistics.GetProperty("model_stats")[0].GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task A_model_that_calls_itself_is_refused_instead_of_waiting_for_its_own_instance()
    {
        using var response = await PostAsync("recursive", """{"inputs":[{"name":"X","shape":[1],"datatype":"INT32","data":[1]}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("the custom model 'recursive' calls itself", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_prebuilt_assembly_serves_the_class_its_configuration_names()
    {
        using var response = await PostAsync("prebuilt", """{"inputs":[{"name":"X","shape":[1],"datatype":"INT32","data":[10]}]}""");

        int[] expected = [9];
        Assert.Equal(expected, Output(await response.Content.ReadAsStringAsync(), "Y"));
    }

    [Theory]
    [InlineData(0, HttpStatusCode.InternalServerError, "the custom model 'faulty' failed: InvalidOperationException: a bug in the model")]
    [InlineData(1, HttpStatusCode.InternalServerError, "the custom model 'faulty' returned output 'Y' as FP32; the configuration says INT32")]
    [InlineData(2, HttpStatusCode.InternalServerError, "the custom model 'faulty' did not return output 'Y'")]
    [InlineData(3, HttpStatusCode.BadRequest, "X must not be 3")]
    public async Task The_models_own_faults_fail_that_request_with_the_reason_and_it_serves_on(int x, HttpStatusCode status, string reason)
    {
        using (var failed = await PostAsync("faulty", $$"""{"inputs":[{"name":"X","shape":[1],"datatype":"INT32","data":[{{x}}]}]}"""))
        {
            Assert.Equal(status, failed.StatusCode);
            Assert.Contains(reason, await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var served = await PostAsync("faulty", """{"inputs":[{"name":"X","shape":[1],"datatype":"INT32","data":[7]}]}""");
        int[] expected = [7];
        Assert.Equal(expected, Output(await served.Content.ReadAsStringAsync(), "Y"));
    }

    [Fact]
    public async Task Source_that_does_not_compile_fails_its_own_load_with_the_compilers_words()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, "v2/repository/index", "{}");
        var broken = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == "broken");

        Assert.Equal("UNAVAILABLE", broken.GetProperty("state").GetString());
        var reason = broken.GetProperty("reason").GetString();
        Assert.Contains("model.cs does not compile: model.cs(1,", reason, StringComparison.Ordinal);
        Assert.Contains("error CS0535: 'Broken' does not implement interface member 'ICustomModel.ExecuteAsync(", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unloading_a_custom_model_collects_its_assemblies()
    {
        var collected = WatchLoadContext("prebuilt");
        Assert.True(collected.IsAlive);

        using (var unload = await _server.SendAsync(HttpMethod.Post, "v2/repository/models/prebuilt/unload", "{}"))
        {
            Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        }

        for (var attempt = 0; attempt < 50 && collected.IsAlive; attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(collected.IsAlive, "the unloaded model's load context is still referenced");
    }

    [Fact]
    public async Task A_server_that_does_not_enable_custom_models_refuses_to_load_them()
    {
        await using var closed = new FolderServer();
        Directory.CreateDirectory(Path.Combine(closed.Folder.Root, "tokenize", "1"));
        File.WriteAllText(Path.Combine(closed.Folder.Root, "tokenize", "1", "model.cs"), Tokenizer);
        File.WriteAllText(Path.Combine(closed.Folder.Root, "tokenize", "config.json"), """{ "backend": "dotnet", "default_model_filename": "model.cs" }""");
        await closed.StartAsync();

        using var response = await closed.SendAsync(HttpMethod.Post, "v2/repository/index", "{}");
        var entry = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement[0];
        Assert.Contains("off unless the server enables them (Turbine:CustomModels:Enabled=true", entry.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A weak reference to the served version's load context, taken where no local keeps the runner alive.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference WatchLoadContext(string model)
    {
        var models = _server.Server.Services.GetRequiredService<ModelManager>();
        Assert.Null(models.Resolve(model, null, out var runner));
        return ((CustomModelRunner)runner!).LoadContextReference;
    }

    private static byte[] CompileToAssembly(string source)
    {
        var path = Path.Combine(Path.GetTempPath(), $"turbine-custom-{Guid.NewGuid():N}.cs");
        File.WriteAllText(path, source);
        try
        {
            return CustomModelCompiler.Compile(path, "Shop.Models");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private void Write(string model, string source, string config)
    {
        Directory.CreateDirectory(Path.Combine(_server.Folder.Root, model, "1"));
        File.WriteAllText(Path.Combine(_server.Folder.Root, model, "1", "model.cs"), source);
        File.WriteAllText(Path.Combine(_server.Folder.Root, model, "config.json"), config);
    }

    private Task<HttpResponseMessage> PostAsync(string model, string body) =>
        _server.Http.PostAsync($"v2/models/{model}/infer", new StringContent(body, Encoding.UTF8, "application/json"));

    private static int[] Output(string body, string name)
    {
        var output = JsonDocument.Parse(body).RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name);
        return [.. output.GetProperty("data").EnumerateArray().Select(v => v.GetInt32())];
    }
}
