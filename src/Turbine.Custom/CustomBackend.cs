using System.Reflection;
using Turbine.Core.Execution;

namespace Turbine.Custom;

/// <summary>
/// Custom models in C# (<c>"backend": "dotnet"</c>), the counterpart of Triton's Python backend: each version folder
/// holds a compiled assembly (<c>model.dll</c>, with any assemblies it needs beside it) or C# source compiled at load
/// (<c>"default_model_filename": "model.cs"</c>), whose public <see cref="ICustomModel"/> class serves the version from
/// its own collectible load context. The model files declare no signature: the configuration lists the inputs and
/// outputs. Running repository code in the server is a trust decision, so the backend refuses every load unless the
/// server enables it (<c>Turbine:CustomModels:Enabled</c>, SECURITY.md A35).
/// </summary>
public sealed class CustomBackend : IModelBackend, IVersionRunnerFactory
{
    public const string BackendName = "dotnet";

    private readonly bool _enabled;
    private readonly Func<IModelClient> _models;

    /// <summary>Creates the backend.</summary>
    /// <param name="enabled">Whether custom models may load at all.</param>
    /// <param name="models">What custom models call other models through, asked for at each load (the server is built by then).</param>
    public CustomBackend(bool enabled, Func<IModelClient> models)
    {
        _enabled = enabled;
        _models = models;
    }

    /// <inheritdoc />
    public string Name => BackendName;

    /// <inheritdoc />
    public string DefaultModelFileName => "model.dll";

    /// <inheritdoc />
    public BackendSettings ReadSettings(System.Text.Json.JsonElement? section, List<string> errors) => CustomModelSettings.Read(section, errors);

    /// <inheritdoc />
    public ModelSignature Inspect(string modelPath)
    {
        RefuseUnlessEnabled();
        return ModelSignature.Undeclared;
    }

    /// <inheritdoc />
    public IModelInstance CreateInstance(string modelPath, ModelConfig config) =>
        throw new NotSupportedException("custom models are served by their runner (IVersionRunnerFactory), never by instances");

    /// <inheritdoc />
    public IVersionRunner CreateRunner(VersionLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RefuseUnlessEnabled();
        var config = context.Config;
        var folder = Path.GetDirectoryName(context.ModelPath)!;
        var loadContext = new CustomModelLoadContext($"turbine custom model {config.Name} v{context.Version}", folder);
        var instances = new List<ICustomModel>();
        try
        {
            var type = FindModelType(LoadAssembly(loadContext, context), CustomModelSettings.Of(config).ClassName);
            var modelContext = new CustomModelContext(config, context.Version, folder, _models());
            for (var i = 0; i < config.InstanceCount; i++)
            {
                var instance = (ICustomModel)Activator.CreateInstance(type)!;
                instances.Add(instance);
                // The loader's own thread, at load: waiting here holds no request thread.
                instance.InitializeAsync(modelContext, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }

            return new CustomModelRunner(context, loadContext, instances);
        }
        catch (Exception e)
        {
            foreach (var instance in instances)
            {
                CustomModelRunner.Release(instance);
            }

            loadContext.Unload();
            throw e switch
            {
                InferenceException => e,
                TargetInvocationException { InnerException: InferenceException inner } => inner,
                TargetInvocationException { InnerException: { } inner } => Failed(config, inner),
                _ => Failed(config, e),
            };
        }
    }

    private static InferenceException Failed(ModelConfig config, Exception e) =>
        new(InferenceError.Invalid($"the custom model '{config.Name}' failed to load: {e.GetType().Name}: {e.Message}"));

    private static Assembly LoadAssembly(CustomModelLoadContext loadContext, VersionLoadContext context)
    {
        var path = context.ModelPath;
        if (path.EndsWith(".cs", StringComparison.OrdinalIgnoreCase))
        {
            return loadContext.LoadMain(CustomModelCompiler.Compile(path, $"Turbine.CustomModel.{context.Config.Name}.v{context.Version}"));
        }

        try
        {
            return loadContext.LoadMain(File.ReadAllBytes(path));
        }
        catch (BadImageFormatException)
        {
            throw new InferenceException(InferenceError.Invalid($"{Path.GetFileName(path)} is not a .NET assembly"));
        }
    }

    /// <summary>The class named by the configuration, or the assembly's one public <see cref="ICustomModel"/> class.</summary>
    private static Type FindModelType(Assembly assembly, string? className)
    {
        var candidates = assembly.GetExportedTypes().Where(IsServable).ToList();
        if (className is not null)
        {
            return candidates.FirstOrDefault(t => t.FullName == className) ?? throw new InferenceException(InferenceError.Invalid(
                $"dotnet.class '{className}' is not a public, non-abstract class of the assembly implementing ICustomModel with a public parameterless constructor; it has {Names(candidates)}"));
        }

        return candidates.Count == 1
            ? candidates[0]
            : throw new InferenceException(InferenceError.Invalid(candidates.Count == 0
                ? "the assembly has no public, non-abstract class implementing Turbine.ICustomModel with a public parameterless constructor"
                : $"the assembly has {candidates.Count} classes implementing Turbine.ICustomModel ({Names(candidates)}); name one in dotnet.class"));
    }

    private static bool IsServable(Type type) =>
        type is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false } && typeof(ICustomModel).IsAssignableFrom(type) && type.GetConstructor(Type.EmptyTypes) is not null;

    private static string Names(List<Type> types) => types.Count == 0 ? "none" : string.Join(", ", types.Select(t => t.FullName));

    private void RefuseUnlessEnabled()
    {
        if (!_enabled)
        {
            throw new InferenceException(InferenceError.Invalid(
                "custom C# models run the model folder's code inside the server, so they are off unless the server enables them (Turbine:CustomModels:Enabled=true; SECURITY.md A35)"));
        }
    }
}
