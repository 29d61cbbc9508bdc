using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using Turbine.Jobs.Definition;

namespace Turbine.Jobs.Tests;

public sealed class FormatTests : IDisposable
{
    private readonly JobHarness _jobs = new();

    [Fact]
    public async Task Json_lines_take_scalars_or_a_list_column_and_report_bad_lines()
    {
        var input = _jobs.Write("in.jsonl", """
            {"id": 1, "a": 1, "b": 2, "c": 3}

            {"id": 2, "a": "4", "b": 5.5, "c": true}
            not json
            {"id": 3, "a": 1, "b": null, "c": 3}
            [1, 2, 3]
            {"id": 4, "a": 1, "b": 2, "c": 3, "extra": "ignored"}
            """);
        var job = await _jobs.RunAsync(_jobs.Job(input, DataFormat.JsonLines, options: JobOptions.Default with { PartitionRows = 2, MaxErrorPercent = 100 }), new FakeInference());

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(3, job.Progress.Partitions); // six rows: the blank line is not one
        Assert.Equal(
            ["""{"id":1,"y":[2,4,6],"total":6}""", """{"id":2,"y":[8,11,2],"total":10.5}""", """{"id":4,"y":[2,4,6],"total":6}"""],
            _jobs.PartLines(".jsonl"));
        var errors = _jobs.DeadLetters().Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([2L, 3L, 4L], errors.Select(e => e.GetProperty("row").GetInt64()));
        Assert.Contains("not valid JSON", errors[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("is null", errors[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("not a JSON object", errors[2].GetProperty("error").GetString(), StringComparison.Ordinal);

        var listed = _jobs.Write("list.jsonl", "{\"id\": 9, \"v\": [1, 2, 3]}\n{\"id\": 10, \"v\": [1, 2]}\n");
        var listJob = _jobs.Job(listed, DataFormat.JsonLines, inputs: [new InputMapping("x", ["v"])], options: JobOptions.Default with { MaxErrorPercent = 100 }) with { Output = new DataLocation(Path.Combine(_jobs.Root, "out2"), DataFormat.JsonLines) };
        var second = await _jobs.RunAsync(listJob, new FakeInference(), "job2");
        Assert.Equal(1, second.Progress.Errors);
        Assert.Equal("""{"id":9,"y":[2,4,6],"total":6}""", File.ReadAllLines(Path.Combine(_jobs.Root, "out2", "part-00000.jsonl")).Single());
        Assert.Contains("gives 2 values, the input's shape [3] takes 3", File.ReadAllText(Path.Combine(_jobs.Root, "out2", "errors", "part-00000.jsonl")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_row_groups_are_partitions_and_the_output_reads_back_typed()
    {
        var input = Path.Combine(_jobs.Root, "in.parquet");
        var schema = new ParquetSchema(new DataField<long>("id"), new ListField("features", new DataField<float>("element")));
        var rows = Enumerable.Range(0, 6).Select(i => (IDictionary<string, object?>)new Dictionary<string, object?> { ["id"] = (long)i, ["features"] = new List<float> { i / 2, 1, 2 } }).ToList();
        await using (var file = File.Create(input))
        {
            await ParquetSerializer.SerializeUntypedAsync(rows, schema, file, new ParquetOptions { RowGroupSize = 2 });
        }

        var job = await _jobs.RunAsync(_jobs.Job(input, DataFormat.Parquet, inputs: [new InputMapping("x", ["features"])]), new FakeInference());

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(3, job.Progress.Partitions);
        var ids = new List<long>();
        var totals = new List<double>();
        foreach (var part in Directory.GetFiles(_jobs.Output, "part-*.parquet").Order(StringComparer.Ordinal))
        {
            await using var stream = File.OpenRead(part);
            var read = (await ParquetSerializer.DeserializeUntypedAsync(stream)).Data;
            ids.AddRange(read.Select(r => (long)r["id"]));
            totals.AddRange(read.Select(r => (double)r["total"]));
            Assert.All(read, r => Assert.Equal(3, ((System.Collections.IList)r["y"]).Count));
        }

        Assert.Equal([0L, 1, 2, 3, 4, 5], ids);
        Assert.Equal([3.0, 3, 4, 4, 5, 5], totals);
    }

    [Fact]
    public async Task Parquet_nulls_empty_lists_and_other_number_types_map_as_their_values_say()
    {
        var input = Path.Combine(_jobs.Root, "mixed.parquet");
        var schema = new ParquetSchema(new DataField<string>("id"), new DataField<int>("a"), new DataField<double?>("b"), new DataField<short>("c"), new ListField("unused", new DataField<float>("element")));
        var rows = Enumerable.Range(0, 5).Select(i => (IDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["id"] = i == 4 ? null : $"r{i}", ["a"] = i, ["b"] = i == 2 ? null : i * 0.5, ["c"] = (short)-i, ["unused"] = i == 1 ? new List<float>() : new List<float> { 1, 2 },
        }).ToList();
        await using (var file = File.Create(input))
        {
            await ParquetSerializer.SerializeUntypedAsync(rows, schema, file);
        }

        var job = await _jobs.RunAsync(_jobs.Job(input, DataFormat.Parquet, DataFormat.JsonLines, JobOptions.Default with { MaxErrorPercent = 100 }), new FakeInference());

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(
            ["""{"id":"r0","y":[0,0,0],"total":0}""", """{"id":"r1","y":[2,1,-2],"total":0.5}""", """{"id":"r3","y":[6,3,-6],"total":1.5}""", """{"id":null,"y":[8,4,-8],"total":2}"""],
            _jobs.PartLines(".jsonl"));
        Assert.Contains("from column 'b': is null", _jobs.DeadLetters().Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_parquet_column_of_an_unsupported_type_fails_the_job_with_its_name()
    {
        var input = Path.Combine(_jobs.Root, "dates.parquet");
        var rows = new List<IDictionary<string, object?>> { new Dictionary<string, object?> { ["id"] = 1L, ["a"] = DateTime.UnixEpoch, ["b"] = 1f, ["c"] = 2f } };
        await using (var file = File.Create(input))
        {
            await ParquetSerializer.SerializeUntypedAsync(rows, new ParquetSchema(new DataField<long>("id"), new DataField<DateTime>("a"), new DataField<float>("b"), new DataField<float>("c")), file);
        }

        var job = await _jobs.RunAsync(_jobs.Job(input, DataFormat.Parquet), new FakeInference());

        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("Parquet column 'a' is of type DateTime", job.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KServe_request_lines_answer_one_response_line_each_whatever_their_batch()
    {
        var input = _jobs.Write("in.jsonl", """
            {"id": "r1", "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 3], "data": [[1, 2, 3], [4, 5, 6]]}]}
            {"id": "r2", "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3], "data": [1, 1, 1]}]}
            {"id": "r3", "inputs": [{"name": "x", "datatype": "INT32", "shape": [1, 3], "data": [1, 1, 1]}]}
            {"id": "r4", "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 1, 1, 1]}]}
            """);
        var definition = new JobDefinition(FakeInference.Model, null, new DataLocation(input, DataFormat.KServe), new DataLocation(_jobs.Output, DataFormat.KServe), [], [], [], JobOptions.Default with { MaxErrorPercent = 100 });

        var job = await _jobs.RunAsync(definition, new FakeInference());

        Assert.Equal(JobState.Succeeded, job.State);
        var lines = _jobs.PartLines(".jsonl").Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["r1", "r2"], lines.Select(l => l.GetProperty("id").GetString()));
        var total = lines[0].GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "total");
        Assert.Equal("[2]", total.GetProperty("shape").GetRawText());
        Assert.Equal("[6,15]", total.GetProperty("data").GetRawText());
        var errors = _jobs.DeadLetters();
        Assert.Contains(errors, e => e.Contains("says INT32, the model takes FP32", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("does not fit the model's [-1,3]", StringComparison.Ordinal));
    }

    public void Dispose() => _jobs.Dispose();
}
