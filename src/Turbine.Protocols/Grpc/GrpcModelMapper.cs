namespace Turbine.Protocols.Grpc;

/// <summary>Maps model metadata, configuration, statistics and the repository index to their gRPC messages.</summary>
public static class GrpcModelMapper
{
    /// <summary>The ModelMetadata response.</summary>
    public static ModelMetadataResponse ToMetadata(ModelVersionInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var response = new ModelMetadataResponse { Name = model.Config.Name, Platform = KServe.KServeJson.PlatformOf(model.Config) };
        response.Versions.AddRange(model.ReadyVersions);
        foreach (var input in model.Config.Inputs)
        {
            response.Inputs.Add(TensorMetadata(model.Config, input));
        }

        foreach (var output in model.Config.Outputs)
        {
            response.Outputs.Add(TensorMetadata(model.Config, output));
        }

        return response;
    }

    private static ModelMetadataResponse.Types.TensorMetadata TensorMetadata(Turbine.ModelConfig config, TensorConfig tensor)
    {
        var metadata = new ModelMetadataResponse.Types.TensorMetadata { Name = tensor.Name, Datatype = tensor.DataType.ToWireName() };
        metadata.Shape.AddRange(config.FullShape(tensor));
        return metadata;
    }

    /// <summary>Triton's <c>ModelSequenceBatching</c>: strategy, idle limit, control inputs and states as the config gave them.</summary>
    private static ModelSequenceBatching SequenceBatching(SequenceBatchingConfig sequences)
    {
        var message = new ModelSequenceBatching { MaxSequenceIdleMicroseconds = (ulong)sequences.MaxSequenceIdleMicroseconds };
        if (sequences.Strategy == SequenceStrategy.Oldest)
        {
            message.Oldest = new ModelSequenceBatching.Types.StrategyOldest
            {
                MaxCandidateSequences = sequences.MaxCandidateSequences,
                MaxQueueDelayMicroseconds = (ulong)sequences.MaxQueueDelayMicroseconds,
            };
            message.Oldest.PreferredBatchSize.AddRange(sequences.PreferredBatchSizes);
        }
        else
        {
            message.Direct = new ModelSequenceBatching.Types.StrategyDirect
            {
                MaxQueueDelayMicroseconds = (ulong)sequences.MaxQueueDelayMicroseconds,
                MinimumSlotUtilization = (float)sequences.MinimumSlotUtilization,
            };
        }

        foreach (var control in sequences.Controls)
        {
            var entry = new ModelSequenceBatching.Types.Control
            {
                Kind = control.Kind switch
                {
                    SequenceControlKind.Start => ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceStart,
                    SequenceControlKind.Ready => ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceReady,
                    SequenceControlKind.End => ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceEnd,
                    _ => ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceCorrid,
                },
            };
            switch (control)
            {
                case { Kind: SequenceControlKind.CorrelationId }:
                    entry.DataType = (DataType)ConfigTypeNumber(control.DataType);
                    break;
                case { DataType: Turbine.DataType.Int32 }:
                    entry.Int32FalseTrue.AddRange([(int)control.FalseValue, (int)control.TrueValue]);
                    break;
                case { DataType: Turbine.DataType.Fp32 }:
                    entry.Fp32FalseTrue.AddRange([(float)control.FalseValue, (float)control.TrueValue]);
                    break;
                default:
                    entry.BoolFalseTrue.AddRange([control.FalseValue != 0, control.TrueValue != 0]);
                    break;
            }

            message.ControlInput.Add(new ModelSequenceBatching.Types.ControlInput { Name = control.InputName, Control = { entry } });
        }

        foreach (var state in sequences.States)
        {
            var initial = new ModelSequenceBatching.Types.InitialState { DataType = (DataType)ConfigTypeNumber(state.DataType), Dims = { state.Dims } };
            if (state.InitialFile is { } file)
            {
                initial.DataFile = file;
            }
            else
            {
                initial.ZeroData = true;
            }

            message.State.Add(new ModelSequenceBatching.Types.State
            {
                InputName = state.InputName,
                OutputName = state.OutputName,
                DataType = (DataType)ConfigTypeNumber(state.DataType),
                Dims = { state.Dims },
                InitialState = { initial },
            });
        }

        return message;
    }

    /// <summary>The ModelConfig message (Triton's field numbers; the ONNX Runtime settings go in <c>parameters</c>).</summary>
    public static ModelConfig ToConfig(Turbine.ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var message = new ModelConfig
        {
            Name = config.Name,
            Platform = KServe.KServeJson.PlatformOf(config),
            Backend = config.Backend,
            MaxBatchSize = config.MaxBatchSize,
            VersionPolicy = config.VersionPolicy.Kind switch
            {
                "all" => new ModelVersionPolicy { All = new ModelVersionPolicy.Types.All() },
                "specific" => new ModelVersionPolicy { Specific = Specific(config.VersionPolicy.Versions ?? []) },
                _ => new ModelVersionPolicy { Latest = new ModelVersionPolicy.Types.Latest { NumVersions = (uint)config.VersionPolicy.Latest } },
            },
        };
        using var source = ConfigSource.Parse(config.SourceJson);
        message.DefaultModelFilename = source.String("default_model_filename") ?? string.Empty;
        foreach (var input in config.Inputs)
        {
            var tensor = new ModelInput
            {
                Name = input.Name,
                DataType = (DataType)ConfigTypeNumber(input.DataType),
                Format = source.TensorString("input", input.Name, "format") switch
                {
                    "FORMAT_NHWC" => ModelInput.Types.Format.Nhwc,
                    "FORMAT_NCHW" => ModelInput.Types.Format.Nchw,
                    _ => ModelInput.Types.Format.None,
                },
            };
            tensor.Dims.AddRange(input.Dims);
            if (input.Reshape is not null)
            {
                tensor.Reshape = new ModelTensorReshape();
                tensor.Reshape.Shape.AddRange(input.Reshape);
            }

            message.Input.Add(tensor);
        }

        foreach (var output in config.Outputs)
        {
            var tensor = new ModelOutput { Name = output.Name, DataType = (DataType)ConfigTypeNumber(output.DataType), LabelFilename = output.LabelFile ?? string.Empty };
            tensor.Dims.AddRange(output.Dims);
            message.Output.Add(tensor);
        }

        if (config.DynamicBatching is { } batching)
        {
            message.DynamicBatching = new ModelDynamicBatching
            {
                MaxQueueDelayMicroseconds = (ulong)batching.MaxQueueDelayMicroseconds,
                PreserveOrdering = batching.PreserveOrdering,
                PriorityLevels = (ulong)batching.PriorityLevels,
                DefaultPriorityLevel = (ulong)batching.DefaultPriorityLevel,
                DefaultQueuePolicy = QueuePolicy(config.QueuePolicy),
            };
            message.DynamicBatching.PreferredBatchSize.AddRange(batching.PreferredBatchSizes);
            foreach (var (level, policy) in batching.PriorityQueuePolicies)
            {
                message.DynamicBatching.PriorityQueuePolicy[(ulong)level] = QueuePolicy(policy);
            }
        }

        if (config.SequenceBatching is { } sequences)
        {
            message.SequenceBatching = SequenceBatching(sequences);
        }

        message.InstanceGroup.Add(new ModelInstanceGroup { Name = config.Name, Count = config.InstanceCount, Kind = config.Settings.InstanceKind == "KIND_GPU" ? ModelInstanceGroup.Types.Kind.Gpu : ModelInstanceGroup.Types.Kind.Cpu });
        foreach (var (name, value) in source.Parameters())
        {
            message.Parameters[name] = new ModelParameter { StringValue = value };
        }

        foreach (var (name, value) in config.Settings.Parameters())
        {
            message.Parameters[name] = new ModelParameter { StringValue = value };
        }

        return message;
    }

    private static ModelQueuePolicy QueuePolicy(QueuePolicyConfig policy) => new()
    {
        TimeoutAction = policy.RejectOnTimeout ? ModelQueuePolicy.Types.TimeoutAction.Reject : ModelQueuePolicy.Types.TimeoutAction.Delay,
        DefaultTimeoutMicroseconds = (ulong)policy.DefaultTimeoutMicroseconds,
        AllowTimeoutOverride = policy.AllowTimeoutOverride,
        MaxQueueSize = (uint)policy.MaxQueueSize,
    };

    private static ModelVersionPolicy.Types.Specific Specific(long[] versions)
    {
        var specific = new ModelVersionPolicy.Types.Specific();
        specific.Versions.AddRange(versions);
        return specific;
    }

    /// <summary>Triton's config enum numbers differ from the order of the v2 names (FP16..FP64 before STRING, BF16 last).</summary>
    private static int ConfigTypeNumber(Turbine.DataType type) => type switch
    {
        Turbine.DataType.Bool => 1,
        Turbine.DataType.UInt8 => 2,
        Turbine.DataType.UInt16 => 3,
        Turbine.DataType.UInt32 => 4,
        Turbine.DataType.UInt64 => 5,
        Turbine.DataType.Int8 => 6,
        Turbine.DataType.Int16 => 7,
        Turbine.DataType.Int32 => 8,
        Turbine.DataType.Int64 => 9,
        Turbine.DataType.Fp16 => 10,
        Turbine.DataType.Fp32 => 11,
        Turbine.DataType.Fp64 => 12,
        Turbine.DataType.Bytes => 13,
        Turbine.DataType.Bf16 => 14,
        _ => 0,
    };

    /// <summary>The ModelStatistics response.</summary>
    public static ModelStatisticsResponse ToStatistics(IReadOnlyList<ModelVersionInfo> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var response = new ModelStatisticsResponse();
        foreach (var model in models)
        {
            var stats = model.Statistics;
            var message = new ModelStatistics
            {
                Name = model.Config.Name,
                Version = model.Version,
                LastInference = (ulong)stats.LastInferenceMs,
                InferenceCount = (ulong)stats.InferenceCount,
                ExecutionCount = (ulong)stats.ExecutionCount,
                InferenceStats = new InferStatistics
                {
                    Success = Duration(stats.Success),
                    Fail = Duration(stats.Fail),
                    Queue = Duration(stats.Queue),
                    ComputeInput = Duration(stats.ComputeInput),
                    ComputeInfer = Duration(stats.ComputeInfer),
                    ComputeOutput = Duration(stats.ComputeOutput),
                    CacheHit = Duration(stats.CacheHit),
                    CacheMiss = Duration(stats.CacheMiss),
                },
            };
            foreach (var (size, batch) in stats.Batches.OrderBy(b => b.Key))
            {
                message.BatchStats.Add(new InferBatchStatistics
                {
                    BatchSize = (ulong)size,
                    ComputeInput = Duration(batch.ComputeInput),
                    ComputeInfer = Duration(batch.ComputeInfer),
                    ComputeOutput = Duration(batch.ComputeOutput),
                });
            }

            response.ModelStats.Add(message);
        }

        return response;
    }

    private static StatisticDuration Duration(DurationCounter counter) =>
        new() { Count = (ulong)counter.Count, Ns = (ulong)counter.Nanoseconds };

    /// <summary>The RepositoryIndex response.</summary>
    public static RepositoryIndexResponse ToIndex(IReadOnlyList<RepositoryIndexEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var response = new RepositoryIndexResponse();
        foreach (var entry in entries)
        {
            response.Models.Add(new RepositoryIndexResponse.Types.ModelIndex
            {
                Name = entry.Name,
                Version = entry.Version ?? string.Empty,
                State = KServe.KServeJson.StateName(entry.State),
                Reason = entry.Reason,
            });
        }

        return response;
    }
}
