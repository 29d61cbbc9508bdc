using System.Reflection;

namespace Turbine.IntegrationTests;

/// <summary>DESIGN.md section 1: the dependency rules, checked over the assemblies' references.</summary>
public sealed class ArchitectureTests
{
    public static TheoryData<string, string[]> Rules() => new()
    {
        { "Turbine.Abstractions", ["Turbine.", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc", "Google.Protobuf", "Onnx"] },
        { "Turbine.Core", ["Turbine.Traffic", "Turbine.Onnx", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc", "Polly", "StackExchange.Redis", "Npgsql"] },
        // A capability: its database and storage drivers are wired by the host behind its interfaces.
        { "Turbine.Registry", ["Turbine.Monitoring", "Turbine.Traffic", "Turbine.Onnx", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc", "StackExchange.Redis", "Npgsql", "Microsoft.Data.Sqlite", "AWSSDK"] },
        { "Turbine.Llm", ["Turbine.Monitoring", "Turbine.Traffic", "Turbine.Registry", "Turbine.Jobs", "Turbine.Onnx", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc", "StackExchange.Redis", "Npgsql", "Microsoft.Data.Sqlite", "AWSSDK"] },
        { "Turbine.Jobs", ["Turbine.Monitoring", "Turbine.Traffic", "Turbine.Registry", "Turbine.Onnx", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc", "StackExchange.Redis", "Npgsql", "Microsoft.Data.Sqlite", "AWSSDK"] },
        // The update agent runs on devices beside the edge server and compiles ahead of time: the BCL and nothing of Turbine.
        { "Turbine.Edge.Updates", ["Turbine.", "Microsoft.AspNetCore", "Microsoft.Extensions", "Microsoft.ML.OnnxRuntime", "Grpc"] },
        // The simulator is arithmetic over traces and policies: it knows no part of the server.
        { "Turbine.Autoscaling", ["Turbine.", "Microsoft.AspNetCore", "Grpc", "k8s", "KubernetesClient"] },
        // A backend: the contracts and ML.NET, nothing of the server.
        { "Turbine.MLNet", ["Turbine.Core", "Turbine.Traffic", "Turbine.Monitoring", "Turbine.Registry", "Turbine.Jobs", "Turbine.Llm", "Turbine.Onnx", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc"] },
        // Remote models speak to other servers through the SDK, and know nothing of the host or of local runtimes.
        { "Turbine.Remote", ["Turbine.Traffic", "Turbine.Monitoring", "Turbine.Registry", "Turbine.Jobs", "Turbine.Llm", "Turbine.Onnx", "Turbine.MLNet", "Turbine.Server", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore"] },
        // Custom models run through the contracts and Core's runner seam; they reach other models only through IModelClient.
        { "Turbine.Custom", ["Turbine.Traffic", "Turbine.Monitoring", "Turbine.Registry", "Turbine.Jobs", "Turbine.Llm", "Turbine.Onnx", "Turbine.MLNet", "Turbine.Remote", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc"] },
        // The operator speaks to the Kubernetes API and knows nothing of serving but model names.
        { "Turbine.Kubernetes", ["Turbine.Traffic", "Turbine.Monitoring", "Turbine.Registry", "Turbine.Jobs", "Turbine.Llm", "Turbine.Onnx", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc", "Npgsql", "AWSSDK"] },
        { "Turbine.Monitoring", ["Turbine.Traffic", "Turbine.Registry", "Turbine.Jobs", "Turbine.Llm", "Turbine.Onnx", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc", "StackExchange.Redis", "Npgsql", "Microsoft.Data.Sqlite", "AWSSDK"] },
        { "Turbine.Traffic", ["Turbine.Monitoring", "Turbine.Onnx", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.ML.OnnxRuntime", "Microsoft.AspNetCore", "Grpc", "StackExchange.Redis", "Npgsql"] },
        { "Turbine.Onnx", ["Turbine.Core", "Turbine.Onnx.Tools", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.AspNetCore", "Grpc"] },
        { "Turbine.Onnx.Tools", ["Turbine.Core", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "Microsoft.AspNetCore", "Grpc"] },
        // Test and demo models are built by the toolkit, which the serving assembly never ships.
        { "Turbine.Server", ["Turbine.Onnx.Tools"] },
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
        foreach (var name in new[] { "Turbine.Abstractions", "Turbine.Core", "Turbine.Traffic", "Turbine.Jobs", "Turbine.Llm", "Turbine.Monitoring", "Turbine.Registry", "Turbine.Kubernetes", "Turbine.MLNet", "Turbine.Remote", "Turbine.Custom", "Turbine.Edge.Updates", "Turbine.Protocols", "Turbine.Server", "Turbine.Client", "turbine" })
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

    /// <summary>SECURITY.md A12: a regular expression over client input must not backtrack without bound.</summary>
    [Fact]
    public void Every_regex_is_non_backtracking_or_has_a_timeout()
    {
        foreach (var (file, line) in SourceLines())
        {
            if (line.Contains("Regex(", StringComparison.Ordinal) || line.Contains("Regex.", StringComparison.Ordinal))
            {
                Assert.True(line.Contains("NonBacktracking", StringComparison.Ordinal) || line.Contains("TimeSpan", StringComparison.Ordinal) || line.Contains("matchTimeout", StringComparison.Ordinal), $"{file}: {line.Trim()}");
            }
        }
    }

    /// <summary>SECURITY.md A16: child processes get argument lists; nothing goes through a shell.</summary>
    [Fact]
    public void Child_processes_never_go_through_a_shell()
    {
        foreach (var (file, line) in SourceLines())
        {
            Assert.False(line.Contains("UseShellExecute = true", StringComparison.Ordinal), $"{file}: {line.Trim()}");
            Assert.False(line.Contains("\"/bin/sh\"", StringComparison.Ordinal) || line.Contains("\"bash\"", StringComparison.Ordinal), $"{file}: {line.Trim()}");
            // ProcessStartInfo(file, "one string of arguments") is how shell-style splitting sneaks in.
            var start = line.IndexOf("new ProcessStartInfo(", StringComparison.Ordinal);
            if (start >= 0 && line[start..].Split(')')[0].Split(',') is [_, var arguments, ..])
            {
                Assert.False(arguments.TrimStart().StartsWith('"') || arguments.TrimStart().StartsWith('$'), $"{file}: {line.Trim()}");
            }
        }
    }

    private static IEnumerable<(string File, string Line)> SourceLines()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Turbine.slnx")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        foreach (var folder in new[] { "src", "bench" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root.FullName, folder), "*.cs", SearchOption.AllDirectories))
            {
                if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (var line in File.ReadLines(file))
                {
                    yield return (Path.GetRelativePath(root.FullName, file), line);
                }
            }
        }
    }
}
