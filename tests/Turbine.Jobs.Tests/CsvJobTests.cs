using System.Text;
using System.Text.Json;
using Turbine.Jobs.Definition;
using Turbine.Jobs.Execution;

namespace Turbine.Jobs.Tests;

public sealed class CsvJobTests : IDisposable
{
    private readonly JobHarness _jobs = new();

    [Fact]
    public async Task Every_row_lands_once_in_its_partitions_part_with_its_key_and_outputs()
    {
        var csv = new StringBuilder("id,a,b,c\n");
        for (var i = 0; i < 10; i++)
        {
            csv.Append(i).Append(',').Append(i).Append(",1,2\n");
        }

        var job = await _jobs.RunAsync(_jobs.Job(_jobs.Write("in.csv", csv.ToString())), new FakeInference());

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(3, job.Progress.Partitions); // 4 + 4 + 2 rows
        Assert.Equal(["part-00000.csv", "part-00001.csv", "part-00002.csv"], Directory.GetFiles(_jobs.Output, "part-*").Select(Path.GetFileName).Order());
        Assert.Equal("id,y,total", File.ReadLines(Path.Combine(_jobs.Output, "part-00000.csv")).First());
        var lines = _jobs.PartLines();
        Assert.Equal(10, lines.Count);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal($"{i},\"[{i * 2},2,4]\",{i + 3}", lines[i]);
        }

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_jobs.Output, JobSummary.FileName)));
        Assert.Equal(10, summary.RootElement.GetProperty("rows").GetInt64());
        Assert.Equal(0, summary.RootElement.GetProperty("errors").GetInt64());
        Assert.Equal(3, summary.RootElement.GetProperty("parts").GetArrayLength());
        Assert.False(Directory.Exists(Path.Combine(_jobs.Output, "_temporary")));
    }

    [Fact]
    public async Task Quoted_line_breaks_and_partition_boundaries_keep_rows_whole()
    {
        var csv = new StringBuilder("id,a,b,c\n");
        for (var i = 0; i < 9; i++)
        {
            csv.Append($"\"id\n{i}\",{i},\"1\",2\r\n");
        }

        var job = await _jobs.RunAsync(_jobs.Job(_jobs.Write("in.csv", csv.ToString()), options: JobOptions.Default with { PartitionRows = 2 }), new FakeInference());

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(5, job.Progress.Partitions);
        var parts = Directory.GetFiles(_jobs.Output, "part-*").Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();
        var ids = parts.SelectMany(p => System.Text.RegularExpressions.Regex.Matches(p, "\"id\\n(\\d)\"").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(Enumerable.Range(0, 9), ids);
    }

    [Fact]
    public async Task Bad_records_are_row_errors_with_their_reason_and_the_rest_are_scored()
    {
        var huge = new string('9', 2048);
        var csv = "id,a,b,c\n" +
                  "0,1,2,3\n" +
                  "1,1,x,3\n" +          // not a number
                  "2,1,2\n" +            // too few fields
                  "3,1,2,3,4\n" +        // too many fields
                  "4,1,\"2\"x,3\n" +     // text after a closing quote
                  "5,,2,3\n" +           // empty cell
                  $"6,{huge},2,3\n" +    // a cell past max_cell_bytes
                  "7,1e3,-2.5,NaN\n";    // numbers in other spellings
        var options = JobOptions.Default with { PartitionRows = 100, MaxErrorPercent = 100, MaxCellBytes = 1024 };

        var job = await _jobs.RunAsync(_jobs.Job(_jobs.Write("in.csv", csv), options: options), new FakeInference());

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(6, job.Progress.Errors);
        Assert.Equal(["0,\"[2,4,6]\",6", "7,\"[2000,-5,\"\"NaN\"\"]\",NaN"], _jobs.PartLines());
        var errors = _jobs.DeadLetters().Select(line => JsonDocument.Parse(line).RootElement).ToDictionary(e => e.GetProperty("row").GetInt64(), e => e.GetProperty("error").GetString()!);
        Assert.Equal([1, 2, 3, 4, 5, 6], errors.Keys.Order());
        Assert.Contains("'x' is not a number", errors[1], StringComparison.Ordinal);
        Assert.Contains("3 fields, the header 4", errors[2], StringComparison.Ordinal);
        Assert.Contains("5 fields, the header 4", errors[3], StringComparison.Ordinal);
        Assert.Contains("malformed CSV record", errors[4], StringComparison.Ordinal);
        Assert.Contains("is empty", errors[5], StringComparison.Ordinal);
        Assert.Contains("larger than 1024 bytes", errors[6], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_column_or_model_fails_the_job_at_validation_with_every_reason()
    {
        var input = _jobs.Write("in.csv", "id,a,b\n0,1,2\n");
        var job = await _jobs.RunAsync(_jobs.Job(input, keys: ["id", "nope"]), new FakeInference());

        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("column 'c' for input 'x' is not in the input", job.Reason, StringComparison.Ordinal);
        Assert.Contains("key column 'nope'", job.Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(_jobs.Output) ? Directory.GetFiles(_jobs.Output, "part-*") : []);

        var other = await _jobs.RunAsync(_jobs.Job(input) with { Model = "missing" }, new FakeInference(), "job2");
        Assert.Equal(JobState.Failed, other.State);
        Assert.Contains("model 'missing'", other.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_job_fails_once_row_errors_pass_its_budget()
    {
        var csv = new StringBuilder("id,a,b,c\n");
        for (var i = 0; i < 40; i++)
        {
            csv.Append(i).Append(i % 4 == 0 ? ",bad,1,2\n" : ",1,1,2\n");
        }

        var job = await _jobs.RunAsync(_jobs.Job(_jobs.Write("in.csv", csv.ToString()), options: JobOptions.Default with { PartitionRows = 4, MaxErrorPercent = 10 }), new FakeInference());

        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("passed the budget of 10%", job.Reason, StringComparison.Ordinal);
        Assert.True(job.Progress.PartitionsDone < job.Progress.Partitions);
        Assert.False(File.Exists(Path.Combine(_jobs.Output, JobSummary.FileName)));
    }

    public void Dispose() => _jobs.Dispose();
}
