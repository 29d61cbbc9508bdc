using System.Reflection;

namespace Turbine.IntegrationTests;

/// <summary>DESIGN.md section 1: the dependency rules, checked over the assemblies' references.</summary>
public sealed class ArchitectureTests
{
    public static TheoryData<string, string[]> Rules() => new()
    {
        { "Turbine.Abstractions", ["Turbine.", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc", "Google.Protobuf", "Onnx"] },
        { "Turbine.Core", ["Turbine.Onnx", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc"] },
        { "Turbine.Onnx", ["Turbine.Core", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.AspNetCore", "Grpc"] },
        { "Turbine.Protocols", ["Turbine.Core", "Turbine.Onnx", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore"] },
        { "Turbine.Client", ["Turbine.Core", "Turbine.Onnx", "Turbine.Server", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore"] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Projects_reference_only_what_the_layering_allows(string assembly, string[] forbiddenPrefixes)
    {
        var references = Assembly.Load(assembly).GetReferencedAssemblies().Select(r => r.Name!).ToList();

        var violations = references.Where(r => r != assembly && forbiddenPrefixes.Any(p => r.StartsWith(p, StringComparison.Ordinal))).ToList();

        Assert.Empty(violations);
    }

    [Fact]
    public void Only_Turbine_Onnx_references_onnx_runtime()
    {
        foreach (var name in new[] { "Turbine.Abstractions", "Turbine.Core", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "turbine" })
        {
            var references = Assembly.Load(name).GetReferencedAssemblies().Select(r => r.Name!);
            Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_cli_reaches_a_running_server_only_through_the_client()
    {
        var cli = Assembly.Load("turbine");
        var connection = cli.GetType("Turbine.Cli.Commands.ConnectionOptions", throwOnError: true)!;

        Assert.Equal("Turbine.Client.ITurbineClient", connection.GetMethod("CreateClient")!.ReturnType.FullName);
        Assert.Contains(cli.GetReferencedAssemblies(), r => r.Name == "Turbine.Client");
    }
}
