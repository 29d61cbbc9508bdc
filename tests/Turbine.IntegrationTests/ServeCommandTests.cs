using System.Net;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary><c>turbine serve</c> as a user types it: settings in .NET's command-line form, and mistakes told plainly.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly TestRepository _repository = new TestRepository().Add("simple", SampleModels.AddSub(DataType.Int32, 4));

    public void Dispose() => _repository.Dispose();

    [Theory]
    [InlineData("--http-port", "-5", 2, "HttpPort -5 is not a port number")]
    [InlineData("--Turbine:MaxRequestBodyBytes=5", null, 2, "MaxRequestBodyBytes must be between 1 KiB and 2 GiB")]
    [InlineData("--Turbine:HttpPort=notanumber", null, 1, "cannot start: Failed to convert configuration value 'notanumber' at 'Turbine:HttpPort'")]
    [InlineData("--bogus", null, 2, "unknown argument '--bogus'")]
    public async Task A_bad_setting_says_what_is_wrong_and_exits_non_zero_without_a_stack_trace(string flag, string? value, int exitCode, string expected)
    {
        string[] args = value is null ? ["serve", "-m", _repository.Root, flag] : ["serve", "-m", _repository.Root, flag, value];

        var (code, output) = await CliProcess.RunRawAsync(args);

        Assert.Equal(exitCode, code);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_in_the_command_line_form_reach_the_server_in_both_spellings()
    {
        using var serve = await CliProcess.ServeAsync("KServe v2 REST", "-m", _repository.Root, "--Turbine:MaxRequestBodyBytes=2048", "--Turbine:Management:Enabled", "true");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{serve.HttpPort}/") };

        using var tooBig = await http.PostAsync("v2/models/simple/infer", new StringContent(AddSubRequests.Json.PadRight(4096), System.Text.Encoding.UTF8, "application/json"));
        using var fits = await http.PostAsync("v2/models/simple/infer", AddSubRequests.Content());
        using var index = await http.PostAsync("v2/repository/models/simple/unload", null); // the repository API, enabled by the second setting

        Assert.Equal(HttpStatusCode.BadRequest, tooBig.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, index.StatusCode);
    }
}
