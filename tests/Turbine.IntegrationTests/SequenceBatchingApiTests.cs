using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Turbine.Onnx.Tools;
using Turbine.Protocols.Grpc;

namespace Turbine.IntegrationTests;

/// <summary>
/// Triton's stateful examples served over the wire as Triton's sequence example clients speak to them: the sync HTTP
/// client's JSON parameters (integer and UUID ids), the gRPC stream client's three sequences sent without waiting
/// (int64 and string ids in <c>InferParameter</c>), and the refusals as a client sees them.
/// </summary>
public sealed class SequenceBatchingApiTests : IAsyncLifetime
{
    private static readonly int[] Values = [11, 7, 5, 3, 2, 0, 1];
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly FolderServer _server = new();

    public async Task InitializeAsync()
    {
        Add("simple_sequence", SampleModels.SimpleSequence(), SequenceSamples.SimpleSequenceConfig);
        Add("simple_dyna_sequence", SampleModels.SimpleDynaSequence(), SequenceSamples.DynaSequenceConfig);
        Add("simple_string_dyna_sequence", SampleModels.StringDynaSequence(), SequenceSamples.StringDynaSequenceConfig);
        _server.Folder.Add("guarded", SampleModels.SimpleSequence(), """
            { "max_batch_size": 1, "max_queue_size": 4,
              "input": [ { "name": "INPUT", "data_type": "TYPE_INT32", "dims": [1] } ],
              "sequence_batching": { "control_input": [
                { "name": "START", "control": [ { "kind": "CONTROL_SEQUENCE_START", "int32_false_true": [0, 1] } ] },
                { "name": "READY", "control": [ { "kind": "CONTROL_SEQUENCE_READY", "int32_false_true": [0, 1] } ] } ] } }
            """);
        await _server.StartAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task The_http_sync_client_gets_Tritons_answers_for_integer_and_string_ids()
    {
        var first = await SendOverRestAsync("simple_sequence", "1000", [0, .. Values]);
        var second = await SendOverRestAsync("simple_sequence", "1001", [100, .. Values.Select(v => -v)]);
        var third = await SendOverRestAsync("simple_sequence", $"\"{Guid.NewGuid()}\"", [20, .. Values.Select(v => -v)]);

        Assert.Equal([1, .. Values], first);
        Assert.Equal([101, .. Values.Select(v => -v)], second);
        Assert.Equal([21, .. Values.Select(v => -v)], third);
    }

    [Fact]
    public async Task The_grpc_stream_client_sends_three_dyna_sequences_at_once_and_each_gets_its_answers()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        using var call = new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelStreamInfer();
        var sequences = new (string Model, InferParameter Id, string Key, int[] Values)[]
        {
            ("simple_dyna_sequence", new InferParameter { Int64Param = 1000 }, "1000", [0, .. Values]),
            ("simple_dyna_sequence", new InferParameter { Int64Param = 1001 }, "1001", [100, .. Values.Select(v => -v)]),
            ("simple_string_dyna_sequence", new InferParameter { StringParam = "1002" }, "1002", [20, .. Values.Select(v => -v)]),
        };
        foreach (var (model, id, key, values) in sequences)
        {
            for (var i = 0; i < values.Length; i++)
            {
                await call.RequestStream.WriteAsync(StreamMessage(model, id, $"{key}_{i + 1}", values[i], start: i == 0, end: i == values.Length - 1));
            }
        }

        await call.RequestStream.CompleteAsync();
        var answers = new Dictionary<string, SortedDictionary<int, int>>();
        while (await call.ResponseStream.MoveNext().WaitAsync(Patience))
        {
            var response = call.ResponseStream.Current;
            Assert.Equal("", response.ErrorMessage);
            Assert.True(response.InferResponse.Parameters["triton_final_response"].BoolParam);
            var parts = response.InferResponse.Id.Split('_');
            var output = MemoryMarshal.Read<int>(response.InferResponse.RawOutputContents[0].Span);
            (answers.TryGetValue(parts[0], out var list) ? list : answers[parts[0]] = [])[int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)] = output;
        }

        // As simple_grpc_sequence_stream_infer_client.py -d checks them: the int model adds the id on the last
        // request; the string-id model accumulates and adds its id at the end.
        Assert.Equal([1, .. Values[..^1], 1 + 1000], answers["1000"].Values);
        Assert.Equal([101, .. Values[..^1].Select(v => -v), -1 + 1001], answers["1001"].Values);
        var sum = 20;
        var expected = new List<int> { sum };
        foreach (var value in Values)
        {
            expected.Add(sum -= value);
        }

        expected[^1] += 1002;
        Assert.Equal(expected, answers["1002"].Values);
    }

    [Fact]
    public async Task A_continuation_of_an_unknown_sequence_is_a_400_with_Tritons_message_and_the_server_keeps_serving()
    {
        using var response = await PostAsync("simple_sequence", "987654", value: 3, start: false, end: false);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.Equal("inference request for sequence 987654 to model 'simple_sequence' must specify the START flag on the first request of the sequence", error);

        using var missing = await _server.Http.PostAsync("v2/models/simple_sequence/infer",
            new StringContent("""{"inputs":[{"name":"INPUT","shape":[1,1],"datatype":"INT32","data":[1]}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("must specify a non-zero or non-empty correlation ID", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal([4], await SendOverRestAsync("simple_sequence", "5", [3]));
    }

    /// <summary>SECURITY.md A22: sequence parameters a client controls.</summary>
    public static TheoryData<string, string> HostileSequenceParameters() => new()
    {
        { "\"sequence_id\": -5, \"sequence_start\": true", "must be a positive integer or a non-empty string" },
        { "\"sequence_id\": 1.5, \"sequence_start\": true", "must be a positive integer or a non-empty string" },
        { "\"sequence_id\": true, \"sequence_start\": true", "must be a positive integer or a non-empty string" },
        { "\"sequence_id\": 0, \"sequence_start\": true", "non-zero or non-empty correlation ID" },
        { "\"sequence_id\": \"\", \"sequence_start\": true", "non-zero or non-empty correlation ID" },
        { $"\"sequence_id\": \"{new string('x', 257)}\", \"sequence_start\": true", "at most 256 characters" },
        { "\"sequence_id\": 7, \"sequence_start\": \"yes\"", "'sequence_start' must be true or false" },
        { "\"sequence_id\": 7, \"sequence_start\": true, \"sequence_end\": 1", "'sequence_end' must be true or false" },
        { "\"sequence_id\": \"a\\nforged\\u001b[31m\"", "START flag" },
    };

    [Theory]
    [MemberData(nameof(HostileSequenceParameters))]
    public async Task Hostile_sequence_parameters_get_a_clean_400_and_the_sequences_go_on(string parameters, string expected)
    {
        var body = "{\"inputs\":[{\"name\":\"INPUT\",\"shape\":[1,1],\"datatype\":\"INT32\",\"data\":[1]}],\"parameters\":{" + parameters + "}}";

        using var response = await _server.Http.PostAsync("v2/models/simple_sequence/infer", new StringContent(body, Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain(error, c => char.IsControl(c)); // a client's id is echoed escaped, never raw
        Assert.Equal([2], await SendOverRestAsync("simple_sequence", "8", [1]));
    }

    [Fact]
    public async Task A_flood_of_new_sequences_is_bounded_by_the_slots_and_backlog_and_the_server_keeps_serving()
    {
        // "guarded" has one slot and room for four sequences in the backlog.
        using (var holder = await PostAsync("guarded", "1", 1, start: true, end: false))
        {
            Assert.Equal(HttpStatusCode.OK, holder.StatusCode);
        }

        var waiting = Enumerable.Range(2, 4).Select(id => PostAsync("guarded", $"{id}", id, start: true, end: true)).ToArray();
        await WhenPendingAsync("guarded", 4); // the four wait in the backlog

        using (var extra = await PostAsync("guarded", "99", 99, start: true, end: true))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, extra.StatusCode);
            Assert.Contains("too many live sequences", await extra.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal([2], await SendOverRestAsync("simple_sequence", "9", [1])); // other models serve on

        using (var end = await PostAsync("guarded", "1", 1, start: false, end: true))
        {
            Assert.Equal(HttpStatusCode.OK, end.StatusCode);
        }

        foreach (var response in await Task.WhenAll(waiting))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // the backlog ran once the slot was free
            response.Dispose();
        }
    }

    [Fact]
    public async Task Over_grpc_an_unknown_sequence_is_invalid_argument()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ModelInferAsync(StreamMessage("simple_dyna_sequence", new InferParameter { Uint64Param = 424242 }, "x", 1, start: false, end: false)));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("sequence 424242", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_metadata_shows_the_clients_inputs_and_the_config_shows_the_sequence_batcher_over_rest_and_grpc()
    {
        var metadata = JsonDocument.Parse(await _server.Http.GetStringAsync("v2/models/simple_string_dyna_sequence")).RootElement;
        Assert.Equal(["INPUT"], metadata.GetProperty("inputs").EnumerateArray().Select(input => input.GetProperty("name").GetString()));
        Assert.Equal(["OUTPUT"], metadata.GetProperty("outputs").EnumerateArray().Select(output => output.GetProperty("name").GetString()));

        var config = JsonDocument.Parse(await _server.Http.GetStringAsync("v2/models/simple_dyna_sequence/config")).RootElement;
        Assert.Equal(4, config.GetProperty("sequence_batching").GetProperty("control_input").GetArrayLength());

        // gRPC's ModelConfig carries the same sequence_batching (Triton's field 13).
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.Server.GrpcPort}");
        var grpc = (await new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelConfigAsync(new ModelConfigRequest { Name = "simple_dyna_sequence" })).Config.SequenceBatching;
        Assert.Equal(10_000_000UL, grpc.MaxSequenceIdleMicroseconds);
        Assert.Equal(1024, grpc.Oldest.MaxCandidateSequences);
        Assert.Equal(["START", "END", "READY", "CORRID"], grpc.ControlInput.Select(input => input.Name));
        Assert.Equal([0, 1], grpc.ControlInput[0].Control[0].Int32FalseTrue);
        Assert.Equal(ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceCorrid, grpc.ControlInput[3].Control[0].Kind);
        Assert.Equal(Turbine.Protocols.Grpc.DataType.TypeUint64, grpc.ControlInput[3].Control[0].DataType);
        var state = (await new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelConfigAsync(new ModelConfigRequest { Name = "simple_string_dyna_sequence" })).Config.SequenceBatching.State.Single();
        Assert.Equal(("ACC_IN", "ACC_OUT", true), (state.InputName, state.OutputName, state.InitialState[0].ZeroData));
    }

    /// <summary>Reads the pending-requests gauge until it shows <paramref name="count"/>: the requests were admitted, and their callers wait.</summary>
    private async Task WhenPendingAsync(string model, int count)
    {
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.MetricsPort}/") };
        var expected = $"turbine_inference_pending_requests{{model=\"{model}\",version=\"1\"}} {count}";
        using var patience = new CancellationTokenSource(Patience);
        while (!(await metrics.GetStringAsync("metrics", patience.Token)).Contains(expected, StringComparison.Ordinal))
        {
        }
    }

    private void Add(string name, byte[] model, string pbtxt)
    {
        _server.Folder.Add(name, model);
        File.WriteAllText(Path.Combine(_server.Folder.Root, name, "config.pbtxt"), pbtxt);
    }

    /// <summary>One request per value, each after the last answer, as simple_http_sequence_sync_infer_client.py sends them.</summary>
    private async Task<List<int>> SendOverRestAsync(string model, string idJson, int[] values)
    {
        var outputs = new List<int>();
        for (var i = 0; i < values.Length; i++)
        {
            using var response = await PostAsync(model, idJson, values[i], start: i == 0, end: i == values.Length - 1);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            outputs.Add(JsonDocument.Parse(body).RootElement.GetProperty("outputs")[0].GetProperty("data")[0].GetInt32());
        }

        return outputs;
    }

    private Task<HttpResponseMessage> PostAsync(string model, string idJson, int value, bool start, bool end)
    {
        var flags = $"\"sequence_start\":{(start ? "true" : "false")},\"sequence_end\":{(end ? "true" : "false")}";
        var body = $$$"""
            {"inputs":[{"name":"INPUT","shape":[1,1],"datatype":"INT32","data":[{{{value}}}]}],"outputs":[{"name":"OUTPUT"}],
             "parameters":{"sequence_id":{{{idJson}}},{{{flags}}}}}
            """;
        return _server.Http.PostAsync($"v2/models/{model}/infer", new StringContent(body, Encoding.UTF8, "application/json"));
    }

    private static ModelInferRequest StreamMessage(string model, InferParameter id, string requestId, int value, bool start, bool end)
    {
        var message = new ModelInferRequest { ModelName = model, Id = requestId };
        message.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "INPUT", Datatype = "INT32", Shape = { 1, 1 } });
        message.RawInputContents.Add(ByteString.CopyFrom(BitConverter.GetBytes(value)));
        message.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "OUTPUT" });
        message.Parameters["sequence_id"] = id;
        message.Parameters["sequence_start"] = new InferParameter { BoolParam = start };
        message.Parameters["sequence_end"] = new InferParameter { BoolParam = end };
        return message;
    }
}
