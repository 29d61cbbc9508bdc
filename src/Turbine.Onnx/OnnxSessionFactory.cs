using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace Turbine.Onnx;

/// <summary>Turns a model's <see cref="OnnxRuntimeSettings"/> into ONNX Runtime session options.</summary>
internal static class OnnxSessionFactory
{
    private static readonly Lazy<HashSet<string>> AvailableProviders =
        new(() => new HashSet<string>(OrtEnv.Instance().GetAvailableProviders(), StringComparer.Ordinal));

    public static InferenceSession Create(string modelPath, OnnxRuntimeSettings config, int device = 0)
    {
        using var options = CreateOptions(config, device);
        try
        {
            return new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InferenceException($"ONNX Runtime could not load the model: {StripPaths(e.Message, modelPath)}");
        }
    }

    /// <summary>A session over a model made in memory (a tree ensemble's graph): no file, so no path to hide.</summary>
    public static InferenceSession Create(byte[] model, OnnxRuntimeSettings config)
    {
        using var options = CreateOptions(config);
        try
        {
            return new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InferenceException($"ONNX Runtime could not load the model: {e.Message}");
        }
    }

    /// <summary>ONNX Runtime's graph optimization level by its name in the config (and in <c>turbine optimize</c>).</summary>
    /// <exception cref="InferenceException">An unknown name.</exception>
    public static GraphOptimizationLevel OptimizationLevel(string name) => name.ToLowerInvariant() switch
    {
        "disabled" or "none" => GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "layout" => GraphOptimizationLevel.ORT_ENABLE_LAYOUT,
        "all" => GraphOptimizationLevel.ORT_ENABLE_ALL,
        _ => throw new InferenceException($"unknown graph optimization level '{name}'; expected disabled, basic, extended, layout or all"),
    };

    public static SessionOptions CreateOptions(OnnxRuntimeSettings config, int device = 0)
    {
        OnnxThreadBudget.EnsureEnvironment(); // the environment's global pools must exist before any session does
        var options = new SessionOptions();
        try
        {
            options.GraphOptimizationLevel = OptimizationLevel(config.GraphOptimizationLevel);
            // Only a setting turned off is applied: setting these to true explicitly (their defaults) was measured to keep
            // about half a MiB more per load/unload cycle (MemoryReleaseTests: +21 to +41 MiB over 60 cycles, against
            // -3 to +12 MiB leaving them alone).
            if (!config.EnableCpuMemArena)
            {
                options.EnableCpuMemArena = false;
            }

            if (!config.EnableMemPattern)
            {
                options.EnableMemoryPattern = false;
            }
            if (OnnxThreadBudget.Covers(config))
            {
                options.DisablePerSessionThreads();
            }
            else
            {
                options.IntraOpNumThreads = config.IntraOpThreads;
                options.InterOpNumThreads = config.InterOpThreads;
                var spinning = config.AllowSpinning ? "1" : "0";
                options.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning);
                options.AddSessionConfigEntry("session.inter_op.allow_spinning", spinning);
            }
            foreach (var provider in config.ExecutionProviders)
            {
                AppendProvider(options, provider, config, device);
            }

            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    private static void AppendProvider(SessionOptions options, string provider, OnnxRuntimeSettings config, int device)
    {
        switch (provider.ToLowerInvariant())
        {
            case "cpu":
                return; // ONNX Runtime always falls back to the CPU provider last.
            case "cuda":
                Require("CUDAExecutionProvider", provider);
                using (var cuda = new OrtCUDAProviderOptions())
                {
                    cuda.UpdateOptions(ExecutionProviderOptions.Cuda(config, device));
                    options.AppendExecutionProvider_CUDA(cuda);
                }

                return;
            case "tensorrt":
                Require("TensorrtExecutionProvider", provider);
                using (var tensorRt = new OrtTensorRTProviderOptions())
                {
                    tensorRt.UpdateOptions(ExecutionProviderOptions.TensorRt(config, device));
                    options.AppendExecutionProvider_Tensorrt(tensorRt);
                }

                return;
            case "xnnpack":
                // XNNPACK's kernels for ARM and x86 (devices); the Linux NuGet packages do not carry it, the Android and
                // iOS ones and custom builds (--use_xnnpack) do. It runs its own pool, sized like ONNX Runtime's.
                Require("XnnpackExecutionProvider", provider, "use an ONNX Runtime built with --use_xnnpack (the Android and iOS packages are), or 'cpu'");
                options.AppendExecutionProvider("XNNPACK", new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["intra_op_num_threads"] = Math.Max(1, config.IntraOpThreads).ToString(CultureInfo.InvariantCulture),
                });
                return;
            default:
                throw new InferenceException($"unknown execution provider '{provider}'; expected cpu, cuda, tensorrt or xnnpack");
        }
    }

    private static void Require(string runtimeName, string provider, string remedy = "build with -p:TurbineGpu=true on a machine with CUDA, or use 'cpu'")
    {
        if (!AvailableProviders.Value.Contains(runtimeName))
        {
            throw new InferenceException(
                $"execution provider '{provider}' is not available in this build (available: {string.Join(", ", AvailableProviders.Value)}); {remedy}");
        }
    }

    private static string StripPaths(string message, string modelPath) =>
        message.Replace(modelPath, Path.GetFileName(modelPath), StringComparison.Ordinal);
}
