using System.Buffers;
using System.Text.Json;

namespace Turbine.Protocols.KServe;

/// <summary>The JSON bodies of the KServe v2 REST API and Triton's extensions, other than inference itself.</summary>
public static class KServeJson
{
    /// <summary>
    /// Writer options for every KServe body: relaxed escaping, because these are JSON API bodies, never HTML, and
    /// clients and people read messages like <c>Request for unknown model: 'x'</c> as written. Control characters are still escaped.
    /// </summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The platform name reported for ONNX models (Triton's name for it).</summary>
    public const string OnnxPlatform = "onnxruntime_onnx";

    /// <summary>The platform a model reports: Triton's <c>ensemble</c> for pipelines, <see cref="OnnxPlatform"/> otherwise.</summary>
    public static string PlatformOf(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Backend == "ensemble" ? "ensemble" : OnnxPlatform;
    }

    /// <summary>The server metadata body.</summary>
    public static void WriteServerMetadata(IBufferWriter<byte> output, string name, string version, IReadOnlyList<string> extensions)
    {
        ArgumentNullException.ThrowIfNull(extensions);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("name"u8, name);
        writer.WriteString("version"u8, version);
        writer.WriteStartArray("extensions"u8);
        foreach (var extension in extensions)
        {
            writer.WriteStringValue(extension);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The model metadata body: name, versions, platform, inputs and outputs with full shapes.</summary>
    public static void WriteModelMetadata(IBufferWriter<byte> output, ModelVersionInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("name"u8, model.Config.Name);
        writer.WriteStartArray("versions"u8);
        foreach (var version in model.ReadyVersions)
        {
            writer.WriteStringValue(version);
        }

        writer.WriteEndArray();
        writer.WriteString("platform"u8, PlatformOf(model.Config));
        WriteTensorMetadata(writer, "inputs", model.Config, model.Config.Inputs);
        WriteTensorMetadata(writer, "outputs", model.Config, model.Config.Outputs);
        writer.WriteEndObject();
    }

    private static void WriteTensorMetadata(Utf8JsonWriter writer, string property, ModelConfig config, IReadOnlyList<TensorConfig> tensors)
    {
        writer.WriteStartArray(property);
        foreach (var tensor in tensors)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, tensor.Name);
            writer.WriteString("datatype"u8, tensor.DataType.ToWireName());
            KServeResponseEncoder.WriteShape(writer, config.FullShape(tensor));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>The model configuration in Triton's JSON form, plus Turbine's <c>onnxruntime</c> section.</summary>
    public static void WriteModelConfig(IBufferWriter<byte> output, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var source = ConfigSource.Parse(config.SourceJson);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("name"u8, config.Name);
        writer.WriteString("platform"u8, PlatformOf(config));
        writer.WriteString("backend"u8, config.Backend);
        writer.WriteStartObject("version_policy"u8);
        switch (config.VersionPolicy.Kind)
        {
            case "all":
                writer.WriteStartObject("all"u8);
                writer.WriteEndObject();
                break;
            case "specific":
                writer.WriteStartObject("specific"u8);
                WriteLongs(writer, "versions", config.VersionPolicy.Versions ?? []);
                writer.WriteEndObject();
                break;
            default:
                writer.WriteStartObject("latest"u8);
                writer.WriteNumber("num_versions"u8, config.VersionPolicy.Latest);
                writer.WriteEndObject();
                break;
        }

        writer.WriteEndObject();
        writer.WriteNumber("max_batch_size"u8, config.MaxBatchSize);
        WriteTensorConfigs(writer, "input", config.Inputs, source);
        WriteTensorConfigs(writer, "output", config.Outputs, source);
        writer.WriteStartArray("instance_group"u8);
        writer.WriteStartObject();
        writer.WriteString("name"u8, config.Name);
        writer.WriteString("kind"u8, config.Settings.InstanceKind);
        writer.WriteNumber("count"u8, config.InstanceCount);
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteNumber("max_queue_size"u8, config.MaxQueueSize);
        writer.WriteStartObject("background_lane"u8);
        writer.WriteNumber("max_queue_size"u8, config.BackgroundLane.MaxQueueSize);
        writer.WriteNumber("max_rows_in_flight"u8, config.BackgroundLane.MaxRowsInFlight);
        writer.WriteEndObject();
        if (config.DynamicBatching is { } batching)
        {
            writer.WriteStartObject("dynamic_batching"u8);
            WriteLongs(writer, "preferred_batch_size", batching.PreferredBatchSizes.Select(size => (long)size));
            writer.WriteNumber("max_queue_delay_microseconds"u8, batching.MaxQueueDelayMicroseconds);
            writer.WriteBoolean("preserve_ordering"u8, batching.PreserveOrdering);
            writer.WriteNumber("priority_levels"u8, batching.PriorityLevels);
            writer.WriteNumber("default_priority_level"u8, batching.DefaultPriorityLevel);
            writer.WritePropertyName("default_queue_policy"u8);
            WriteQueuePolicy(writer, config.QueuePolicy);
            writer.WriteStartObject("priority_queue_policy"u8);
            foreach (var (level, policy) in batching.PriorityQueuePolicies)
            {
                writer.WritePropertyName(level.ToString(System.Globalization.CultureInfo.InvariantCulture));
                WriteQueuePolicy(writer, policy);
            }

            writer.WriteEndObject();
            if (batching.MaxLatencyMilliseconds > 0)
            {
                writer.WriteNumber("max_latency_ms"u8, batching.MaxLatencyMilliseconds);
            }

            writer.WriteEndObject();
        }

        if (!config.Settings.IsEmpty)
        {
            writer.WriteStartObject(config.Backend); // the backend's own section, as the configuration file holds it
            config.Settings.WriteProperties(writer);
            writer.WriteEndObject();
        }

        if (source.Root is { } file)
        {
            // Every other field of the file, as written: clients read some that Turbine does not act on (Triton's
            // image client reads an input's "format").
            foreach (var property in file.EnumerateObject())
            {
                if (!WrittenFields.Contains(property.Name) && property.Name != config.Backend)
                {
                    property.WriteTo(writer);
                }
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>The top-level fields <see cref="WriteModelConfig"/> writes from what Turbine acts on.</summary>
    private static readonly HashSet<string> WrittenFields =
        ["name", "platform", "backend", "version_policy", "max_batch_size", "input", "output", "instance_group", "max_queue_size", "background_lane", "dynamic_batching"];

    /// <summary>The fields of each input and output written from what Turbine acts on.</summary>
    private static readonly HashSet<string> WrittenTensorFields = ["name", "data_type", "dims", "reshape", "label_filename", "optional"];

    private static void WriteTensorConfigs(Utf8JsonWriter writer, string property, IReadOnlyList<TensorConfig> tensors, ConfigSource source)
    {
        writer.WriteStartArray(property);
        foreach (var tensor in tensors)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, tensor.Name);
            writer.WriteString("data_type"u8, tensor.DataType.ToConfigName());
            WriteLongs(writer, "dims", tensor.Dims);
            if (tensor.Reshape is not null)
            {
                writer.WriteStartObject("reshape"u8);
                WriteLongs(writer, "shape", tensor.Reshape);
                writer.WriteEndObject();
            }

            if (tensor.LabelFile is not null)
            {
                writer.WriteString("label_filename"u8, tensor.LabelFile);
            }

            if (tensor.Optional)
            {
                writer.WriteBoolean("optional"u8, true);
            }

            if (source.Tensor(property, tensor.Name) is { } written)
            {
                foreach (var field in written.EnumerateObject())
                {
                    if (!WrittenTensorFields.Contains(field.Name))
                    {
                        field.WriteTo(writer); // format, is_shape_tensor, optional, ...
                    }
                }
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteQueuePolicy(Utf8JsonWriter writer, QueuePolicyConfig policy)
    {
        writer.WriteStartObject();
        writer.WriteString("timeout_action"u8, policy.RejectOnTimeout ? "REJECT" : "DELAY");
        writer.WriteNumber("default_timeout_microseconds"u8, policy.DefaultTimeoutMicroseconds);
        writer.WriteBoolean("allow_timeout_override"u8, policy.AllowTimeoutOverride);
        writer.WriteNumber("max_queue_size"u8, policy.MaxQueueSize);
        writer.WriteEndObject();
    }

    private static void WriteLongs(Utf8JsonWriter writer, string property, IEnumerable<long> values)
    {
        writer.WriteStartArray(property);
        foreach (var value in values)
        {
            writer.WriteNumberValue(value);
        }

        writer.WriteEndArray();
    }

    /// <summary>The statistics body (<c>{"model_stats": [...]}</c>).</summary>
    public static void WriteStatistics(IBufferWriter<byte> output, IReadOnlyList<ModelVersionInfo> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteStartArray("model_stats"u8);
        foreach (var model in models)
        {
            var stats = model.Statistics;
            writer.WriteStartObject();
            writer.WriteString("name"u8, model.Config.Name);
            writer.WriteString("version"u8, model.Version);
            writer.WriteNumber("last_inference"u8, stats.LastInferenceMs);
            writer.WriteNumber("inference_count"u8, stats.InferenceCount);
            writer.WriteNumber("execution_count"u8, stats.ExecutionCount);
            writer.WriteStartObject("inference_stats"u8);
            WriteDuration(writer, "success", stats.Success);
            WriteDuration(writer, "fail", stats.Fail);
            WriteDuration(writer, "queue", stats.Queue);
            WriteDuration(writer, "compute_input", stats.ComputeInput);
            WriteDuration(writer, "compute_infer", stats.ComputeInfer);
            WriteDuration(writer, "compute_output", stats.ComputeOutput);
            WriteDuration(writer, "cache_hit", stats.CacheHit);
            WriteDuration(writer, "cache_miss", stats.CacheMiss);
            writer.WriteEndObject();
            writer.WriteStartArray("batch_stats"u8);
            foreach (var (size, batch) in stats.Batches.OrderBy(b => b.Key))
            {
                writer.WriteStartObject();
                writer.WriteNumber("batch_size"u8, size);
                WriteDuration(writer, "compute_input", batch.ComputeInput);
                WriteDuration(writer, "compute_infer", batch.ComputeInfer);
                WriteDuration(writer, "compute_output", batch.ComputeOutput);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteDuration(Utf8JsonWriter writer, string property, DurationCounter counter)
    {
        writer.WriteStartObject(property);
        writer.WriteNumber("count"u8, counter.Count);
        writer.WriteNumber("ns"u8, counter.Nanoseconds);
        writer.WriteEndObject();
    }

    /// <summary>The repository index body: an array of {name, version, state, reason}.</summary>
    public static void WriteRepositoryIndex(IBufferWriter<byte> output, IReadOnlyList<RepositoryIndexEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartArray();
        foreach (var entry in entries)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, entry.Name);
            if (entry.Version is not null)
            {
                writer.WriteString("version"u8, entry.Version);
            }

            writer.WriteString("state"u8, StateName(entry.State));
            writer.WriteString("reason"u8, entry.Reason);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>Triton's name for a lifecycle state.</summary>
    public static string StateName(ModelState state) => state switch
    {
        ModelState.Ready => "READY",
        ModelState.Loading => "LOADING",
        ModelState.Unloading => "UNLOADING",
        _ => "UNAVAILABLE",
    };

    /// <summary>The error body: <c>{"error": "..."}</c>.</summary>
    public static void WriteError(IBufferWriter<byte> output, string message)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("error"u8, message);
        writer.WriteEndObject();
    }

    /// <summary>Reads the optional <c>{"ready": bool}</c> body of a repository index request.</summary>
    public static InferenceError? ReadIndexRequest(ReadOnlySpan<byte> body, int maxDepth, out bool readyOnly)
    {
        readyOnly = false;
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return InferenceError.Invalid("the repository index request body must be a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isReady = reader.ValueTextEquals("ready"u8);
                reader.Read();
                if (isReady && reader.TokenType is JsonTokenType.True or JsonTokenType.False)
                {
                    readyOnly = reader.GetBoolean();
                }
                else
                {
                    reader.Skip();
                }
            }

            return null;
        }
        catch (JsonException)
        {
            return InferenceError.Invalid("the repository index request body is not valid JSON");
        }
    }
}
