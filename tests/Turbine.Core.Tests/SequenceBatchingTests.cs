using Turbine.Core.Execution;
using Turbine.Onnx.Tools;

namespace Turbine.Core.Tests;

/// <summary>
/// The sequence batcher on real ONNX models: Triton's example sequences and their answers, both strategies, implicit
/// state, the slot backlog, idle expiry on a fake clock, and every refusal in Triton's words.
/// </summary>
public sealed class SequenceBatchingTests : IAsyncLifetime
{
    private static readonly int[] Values = [11, 7, 5, 3, 2, 0, 1];
    private readonly GatedModels _gated = new();

    /// <summary>Triton's example models on the system clock: the oldest strategy waits its 10 ms queue delay for real.</summary>
    private readonly GatedModels _examples = new(TimeProvider.System);

    public async Task InitializeAsync()
    {
        AddPbtxt(_examples, "simple_dyna_sequence", SampleModels.SimpleDynaSequence(), SequenceSamples.DynaSequenceConfig);
        AddPbtxt(_examples, "simple_string_dyna_sequence", SampleModels.StringDynaSequence(), SequenceSamples.StringDynaSequenceConfig);
        await _examples.LoadAsync();
        AddPbtxt(_gated, "simple_sequence", SampleModels.SimpleSequence(), SequenceSamples.SimpleSequenceConfig);
        // One slot in all (one instance, one row) and room for one sequence in the backlog.
        _gated.Files.Add("one_slot", SampleModels.SimpleSequence(), """
            { "max_batch_size": 1, "max_queue_size": 1,
              "sequence_batching": { "max_sequence_idle_microseconds": 5000000, "control_input": [
                { "name": "START", "control": [ { "kind": "CONTROL_SEQUENCE_START", "int32_false_true": [0, 1] } ] },
                { "name": "READY", "control": [ { "kind": "CONTROL_SEQUENCE_READY", "int32_false_true": [0, 1] } ] } ] } }
            """);
        _gated.Files.Add("both_schedulers", SampleModels.SimpleSequence(), """
            { "max_batch_size": 8, "dynamic_batching": { },
              "sequence_batching": { "control_input": [
                { "name": "START", "control": [ { "kind": "CONTROL_SEQUENCE_START", "int32_false_true": [0, 1] } ] },
                { "name": "READY", "control": [ { "kind": "CONTROL_SEQUENCE_READY", "int32_false_true": [0, 1] } ] } ] } }
            """);
        _gated.Files.Add("control_missing", SampleModels.SimpleSequence(), """
            { "max_batch_size": 8, "input": [ { "name": "INPUT", "data_type": "TYPE_INT32", "dims": [1] } ],
              "sequence_batching": { "control_input": [
                { "name": "START", "control": [ { "kind": "CONTROL_SEQUENCE_START", "int32_false_true": [0, 1] } ] } ] } }
            """);
        await _gated.LoadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gated.DisposeAsync();
        await _examples.DisposeAsync();
    }

    [Fact]
    public async Task Simple_sequence_gives_the_answers_Tritons_example_client_checks()
    {
        // simple_http_sequence_sync_infer_client.py: two integer sequences and one with a string id.
        var first = await SendAsync("simple_sequence", 1000L, [0, .. Values]);
        var second = await SendAsync("simple_sequence", 1001L, [100, .. Values.Select(v => -v)]);
        var third = await SendAsync("simple_sequence", Guid.NewGuid().ToString(), [20, .. Values.Select(v => -v)]);

        Assert.Equal([1, .. Values], first);
        Assert.Equal([101, .. Values.Select(v => -v)], second);
        Assert.Equal([21, .. Values.Select(v => -v)], third);
    }

    [Fact]
    public async Task Interleaved_sequences_keep_their_own_order_and_controls()
    {
        // The gRPC stream client sends all three sequences without waiting: requests of different sequences overlap.
        var runs = new[]
        {
            SendAsync("simple_dyna_sequence", 1000L, [0, .. Values]),
            SendAsync("simple_dyna_sequence", 1001L, [100, .. Values.Select(v => -v)]),
            SendAsync("simple_string_dyna_sequence", "1002", [20, .. Values.Select(v => -v)]),
        };
        var results = await Task.WhenAll(runs);

        // The dyna model adds the correlation id to the sequence's last answer.
        Assert.Equal([1, .. Values[..^1], 1 + 1000], results[0]);
        Assert.Equal([101, .. Values[..^1].Select(v => -v), -1 + 1001], results[1]);
        // The accumulator: each answer is the sum so far (kept as implicit state), plus the id on the last.
        var sums = new List<int> { 20 };
        foreach (var value in Values)
        {
            sums.Add(sums[^1] - value);
        }

        sums[^1] += 1002;
        Assert.Equal(sums, results[2]);
    }

    [Fact]
    public async Task Many_sequences_at_once_share_batches_and_each_gets_its_own_sum()
    {
        var ids = Enumerable.Range(1, 20).Select(i => (object)$"{i}").ToArray();
        var results = await Task.WhenAll(ids.Select(id => SendAsync("simple_string_dyna_sequence", id, [1, 2, 3, 4])));
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal([1, 3, 6, 10 + (i + 1)], results[i]);
        }

        Assert.True(_examples.Statistics("simple_string_dyna_sequence").ExecutionCount < 20 * 4, "the sequences never shared a batch");
    }

    [Fact]
    public async Task Under_direct_a_sequence_keeps_its_slot_and_idle_slots_before_it_run_as_not_ready_rows()
    {
        // Three sequences take slots 0, 1 and 2; the first two end, so the third's next batch holds two idle rows
        // (READY false, zeros) before its own, and its answer must be its own.
        foreach (var id in new[] { 501L, 502L, 503L })
        {
            Assert.Null((await InferAsync("simple_sequence", 10, Step(id, start: true, end: false))).Error);
        }

        Assert.Null((await InferAsync("simple_sequence", 1, Step(501L, start: false, end: true))).Error);
        Assert.Null((await InferAsync("simple_sequence", 1, Step(502L, start: false, end: true))).Error);
        var before = _gated.Statistics("simple_sequence").ExecutionCount;
        using var third = (await InferAsync("simple_sequence", 42, Step(503L, start: false, end: true))).Response!;
        Assert.Equal([42], third.Outputs[0].ToArray<int>());
        Assert.Equal([1L, 1], third.Outputs[0].Shape);
        Assert.Equal(before + 1, _gated.Statistics("simple_sequence").ExecutionCount);
        Assert.Equal([0, 0, 42], _gated.Backend.Runs.Last()); // slots 0 and 1 idle, zeros in their rows
    }

    [Fact]
    public async Task A_request_without_a_sequence_id_is_refused_in_Tritons_words()
    {
        var result = await InferAsync("simple_sequence", 1, parameters: []);
        Assert.Equal(StatusCode.InvalidArgument, result.Error!.Code);
        Assert.Equal("inference request to model 'simple_sequence' must specify a non-zero or non-empty correlation ID", result.Error.Message);
    }

    [Fact]
    public async Task A_sequence_that_never_started_is_refused()
    {
        var result = await InferAsync("simple_sequence", 1, Step(4242L, start: false, end: false));
        Assert.Equal(StatusCode.InvalidArgument, result.Error!.Code);
        Assert.Equal("inference request for sequence 4242 to model 'simple_sequence' must specify the START flag on the first request of the sequence", result.Error.Message);
    }

    [Fact]
    public async Task A_sequence_is_over_after_its_end_and_may_start_again()
    {
        Assert.Null((await InferAsync("simple_sequence", 5, Step(77L, start: true, end: true))).Error);
        var after = await InferAsync("simple_sequence", 5, Step(77L, start: false, end: false));
        Assert.Contains("must specify the START flag", after.Error!.Message, StringComparison.Ordinal);
        using var again = (await InferAsync("simple_sequence", 5, Step(77L, start: true, end: false))).Response!;
        Assert.Equal([6], again.Outputs[0].ToArray<int>());
    }

    [Fact]
    public async Task A_batch_of_more_than_one_row_is_refused()
    {
        using var request = Request("simple_sequence", [1, 2], Step(9L, start: true, end: false));
        var result = await _gated.Inference.InferAsync(request, CancellationToken.None);
        Assert.Equal("inference request to model 'simple_sequence' must specify batch-size 1 due to requirements of sequence batcher", result.Error!.Message);
    }

    [Fact]
    public async Task A_string_id_for_an_integer_CORRID_is_refused()
    {
        var result = await InferAsync("simple_dyna_sequence", 1, Step("abc", start: true, end: false));
        Assert.Equal(StatusCode.InvalidArgument, result.Error!.Code);
        Assert.Contains("must specify an integer correlation ID", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_idle_sequence_expires_and_its_next_request_must_start_again()
    {
        Assert.Null((await InferAsync("simple_sequence", 1, Step(31L, start: true, end: false))).Error);
        _gated.Time.Advance(TimeSpan.FromMilliseconds(900)); // within Triton's default of one second
        Assert.Null((await InferAsync("simple_sequence", 1, Step(31L, start: false, end: false))).Error);
        _gated.Time.Advance(TimeSpan.FromSeconds(1.1));
        var late = await InferAsync("simple_sequence", 1, Step(31L, start: false, end: false));
        Assert.Contains("must specify the START flag", late.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sequences_beyond_the_slots_wait_in_the_backlog_and_beyond_that_are_refused()
    {
        // "one_slot" has one slot and a backlog of one: A holds the slot, B waits, C is one too many.
        using var a = (await InferAsync("one_slot", 1, Step(1L, start: true, end: false))).Response!;
        var b = InferAsync("one_slot", 2, Step(2L, start: true, end: true));
        Assert.False(b.IsCompleted);

        var c = await InferAsync("one_slot", 3, Step(3L, start: true, end: false));
        Assert.Equal(StatusCode.Unavailable, c.Error!.Code);
        Assert.Contains("too many live sequences", c.Error.Message, StringComparison.Ordinal);

        // A ends: its slot goes to B, whose START runs now.
        using var ended = (await InferAsync("one_slot", 1, Step(1L, start: false, end: true))).Response!;
        using var started = (await b).Response!;
        Assert.Equal([3], started.Outputs[0].ToArray<int>());
    }

    [Fact]
    public async Task A_model_whose_sequence_config_cannot_be_honoured_never_reads_ready()
    {
        var reasons = _gated.Inference.Index(readyOnly: false).Where(entry => entry.Name is "both_schedulers" or "control_missing").ToList();
        Assert.Equal(2, reasons.Count);
        Assert.Contains(reasons, entry => entry.Reason.Contains("cannot both be set", StringComparison.Ordinal));
        Assert.Contains(reasons, entry => entry.Reason.Contains("'READY'", StringComparison.Ordinal));
        Assert.DoesNotContain(reasons, entry => entry.State == ModelState.Ready);
    }

    private static void AddPbtxt(GatedModels models, string name, byte[] model, string pbtxt)
    {
        models.Files.Add(name, model);
        File.WriteAllText(Path.Combine(models.Files.Root, name, "config.pbtxt"), pbtxt);
    }

    /// <summary>Sends one sequence, a request per value, each after the last is answered; returns OUTPUT of each.</summary>
    private async Task<List<int>> SendAsync(string model, object id, int[] values)
    {
        var outputs = new List<int>();
        for (var i = 0; i < values.Length; i++)
        {
            var result = await InferAsync(model, values[i], Step(id, start: i == 0, end: i == values.Length - 1));
            Assert.Null(result.Error);
            using var response = result.Response!;
            outputs.Add(response.Outputs.Single(output => output.Name == "OUTPUT").ToArray<int>()[0]);
        }

        return outputs;
    }

    private async Task<InferenceResult> InferAsync(string model, int value, Dictionary<string, object> parameters)
    {
        using var request = Request(model, [value], parameters);
        var models = model.Contains("dyna", StringComparison.Ordinal) ? _examples : _gated;
        return await models.Inference.InferAsync(request, CancellationToken.None);
    }

    private static InferenceRequest Request(string model, int[] rows, Dictionary<string, object> parameters)
    {
        var request = new InferenceRequest { ModelName = model, Parameters = parameters };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT", [rows.Length, 1], rows));
        return request;
    }

    private static Dictionary<string, object> Step(object id, bool start, bool end) =>
        new() { ["sequence_id"] = id, ["sequence_start"] = start, ["sequence_end"] = end };
}
