using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Turbine.Custom;

/// <summary>
/// Compiles a custom model's C# source (<c>model.cs</c>) at load with Roslyn, against the framework and the assemblies
/// the server runs with (Turbine's contracts among them), so a model folder needs no build step. The references are
/// read once per process, and the source gets an SDK project's implicit usings and <c>Turbine</c>'s.
/// </summary>
public static class CustomModelCompiler
{
    /// <summary>Compiler messages quoted in a failed load at most.</summary>
    private const int MaxReportedErrors = 10;

    /// <summary>The source a model file may hold at most.</summary>
    public const long MaxSourceBytes = 4L * 1024 * 1024;

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(ReadReferences);

    /// <summary>The implicit usings of an SDK console project, and Turbine's: the source needs none of its own.</summary>
    private static readonly SyntaxTree ImplicitUsings = CSharpSyntaxTree.ParseText(
        "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
        "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks; global using Turbine;",
        CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest), path: "ImplicitUsings.cs");

    /// <summary>Compiles <paramref name="sourcePath"/> into an assembly image named <paramref name="assemblyName"/>.</summary>
    /// <exception cref="InferenceException">The source does not compile; the message quotes the compiler's errors with their lines.</exception>
    public static byte[] Compile(string sourcePath, string assemblyName)
    {
        var file = new FileInfo(sourcePath);
        if (file.Length > MaxSourceBytes)
        {
            throw new InferenceException(InferenceError.Invalid($"{file.Name} is {file.Length} bytes; a custom model's source may have {MaxSourceBytes} at most"));
        }

        var tree = CSharpSyntaxTree.ParseText(File.ReadAllText(sourcePath), CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest), path: file.Name);
        var compilation = CSharpCompilation.Create(
            assemblyName,
            [ImplicitUsings, tree],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        if (!result.Success)
        {
            var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            var quoted = string.Join("; ", errors.Take(MaxReportedErrors).Select(d => d.ToString()));
            var more = errors.Count > MaxReportedErrors ? $" (and {errors.Count - MaxReportedErrors} more)" : string.Empty;
            throw new InferenceException(InferenceError.Invalid($"{file.Name} does not compile: {quoted}{more}"));
        }

        return image.ToArray();
    }

    /// <summary>Every assembly the server was started with (the runtime's trusted platform assemblies: the framework and the server's own).</summary>
    private static ImmutableArray<MetadataReference> ReadReferences()
    {
        var paths = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var contract = typeof(ICustomModel).Assembly.Location;
        return [.. paths.Append(contract).Distinct(StringComparer.Ordinal).Where(File.Exists).Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))];
    }
}
