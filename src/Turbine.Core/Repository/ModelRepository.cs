namespace Turbine.Core.Repository;

/// <summary>
/// A Triton-layout model repository on local disk: <c>&lt;root&gt;/&lt;model&gt;/config.json</c> and numeric version
/// folders holding the model file. Only names that pass <see cref="ModelNames"/> ever become paths, and every
/// path is checked to stay inside the root.
/// </summary>
public sealed class ModelRepository
{
    private readonly string _rootWithSeparator;
    private readonly StagingArea _staging;

    /// <summary>Opens the repository at <paramref name="root"/>.</summary>
    public ModelRepository(string root)
    {
        Root = Path.GetFullPath(root);
        _rootWithSeparator = Path.EndsInDirectorySeparator(Root) ? Root : Root + Path.DirectorySeparatorChar;
        _staging = new StagingArea(Root);
    }

    /// <summary>Why uploaded model files cannot be staged, or null (<see cref="StagingArea.Check"/>).</summary>
    public static string? CheckUpload(IReadOnlyList<ModelFileUpload> files) => StagingArea.Check(files ?? throw new ArgumentNullException(nameof(files)));

    /// <summary>Writes a fresh staging folder for <paramref name="name"/> from a load request's files; returns it.</summary>
    public string Stage(string name, string config, IReadOnlyList<ModelFileUpload> files)
    {
        _ = ModelPath(name); // the name rules, before anything is written
        return _staging.Write(name, config, files);
    }

    /// <summary>
    /// Serves <paramref name="name"/> from a staged folder, or (null) from the repository's own folder when it has one;
    /// returns the staged folder it served from before, if any.
    /// </summary>
    public string? UseStaged(string name, string? folder) =>
        folder is null && !Directory.Exists(Contained(Path.Combine(Root, name))) ? null : _staging.Use(name, folder);

    /// <summary>Deletes a staged folder nothing serves from any more.</summary>
    public void DiscardStaged(string? folder) => _staging.Discard(folder);

    /// <summary>The repository folder, as a full path.</summary>
    public string Root { get; }

    /// <summary>The names of the model folders, sorted. Folders with unsafe names, and Triton ensembles, are left out.</summary>
    public IReadOnlyList<string> ListModels() => [.. ListFolders().Where(name => !IsEnsemble(name))];

    /// <summary>The folders whose configuration is a Triton ensemble (<c>platform: "ensemble"</c>): pipelines, not models.</summary>
    public IReadOnlyList<string> ListEnsembles() => [.. ListFolders().Where(IsEnsemble)];

    /// <summary>
    /// The folder's configuration as JSON (config.json as it is, config.pbtxt rewritten), or null when it has none or
    /// has both; syntax errors go to <paramref name="errors"/>.
    /// </summary>
    public string? ConfigJson(string name, List<string> errors)
    {
        var folder = ModelPath(name);
        var json = Path.Combine(folder, "config.json");
        var text = Path.Combine(folder, "config.pbtxt");
        return (File.Exists(json), File.Exists(text)) switch
        {
            (true, false) => File.ReadAllText(json),
            (false, true) => TritonTextConfig.ToJson(File.ReadAllText(text), errors),
            _ => null,
        };
    }

    /// <summary>Whether the folder's configuration is a Triton ensemble.</summary>
    public bool IsEnsemble(string name) => ModelNames.IsValid(name) && Directory.Exists(ModelPath(name)) && IsEnsembleConfig(ConfigJson(name, []));

    /// <summary>Whether a configuration (as JSON) says <c>platform: "ensemble"</c>.</summary>
    public static bool IsEnsembleConfig(string? json)
    {
        if (json is null || !json.Contains("ensemble", StringComparison.Ordinal))
        {
            return false; // the common case, decided without parsing
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object &&
                document.RootElement.TryGetProperty("platform", out var platform) && platform.ValueKind == System.Text.Json.JsonValueKind.String &&
                platform.GetString() == "ensemble";
        }
        catch (System.Text.Json.JsonException)
        {
            return false; // a broken config is the model loader's to report
        }
    }

    /// <summary>Every folder with a safe name, models and ensembles alike, and the models uploaded in load requests, sorted.</summary>
    public List<string> ListFolders()
    {
        var names = new List<string>();
        if (Directory.Exists(Root))
        {
            foreach (var directory in Directory.EnumerateDirectories(Root))
            {
                var name = Path.GetFileName(directory);
                if (ModelNames.IsValid(name) && !IsLink(directory))
                {
                    names.Add(name);
                }
            }
        }

        names.AddRange(_staging.Models.Where(staged => !names.Contains(staged)));
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Whether a model folder of that name exists.</summary>
    public bool Contains(string name) => ModelNames.IsValid(name) && Directory.Exists(ModelPath(name));

    /// <summary>
    /// Reads a model's folder: its configuration (completed and validated) and its version numbers. A version folder
    /// counts once its model file is there, so a version being copied in is not a broken version.
    /// </summary>
    /// <param name="name">The model name.</param>
    /// <param name="backends">The backends, one of which the configuration selects.</param>
    /// <param name="configOverride">Configuration JSON that replaces the folder's config file for this load.</param>
    public ModelDefinition Read(string name, BackendRegistry backends, string? configOverride = null)
    {
        ArgumentNullException.ThrowIfNull(backends);
        var errors = new List<string>();
        var folder = ModelPath(name);
        var (draft, configText) = configOverride is null ? ReadConfig(folder, errors) : (ModelConfigReader.Read(configOverride, errors), configOverride);
        var backend = backends.Resolve(draft.Backend, draft.Platform, out var unknown, folder);
        var unsupported = draft.Root is { } root ? UnsupportedFields.Find(root, backend?.Name, backend?.HonouredFields ?? []) : [];
        if (draft.Root is { } written)
        {
            UnhonouredFields.Check(written, errors);
        }

        if (backend is null)
        {
            errors.Add(unknown!);
            return new ModelDefinition(name, null, [], errors, unsupported, configText);
        }

        if (draft.GpuGroup is { } gpuGroup && !backend.HasGpu)
        {
            errors.Add($"{gpuGroup} asks for KIND_GPU, but the '{backend.Name}' backend of this build has no GPU to run on; use KIND_CPU or KIND_AUTO, or build with -p:TurbineGpu=true for a CUDA device");
        }

        var modelFile = draft.DefaultModelFileName ?? backend.DefaultModelFileName;
        var versions = SelectVersions(ListVersions(folder, modelFile), draft.VersionPolicy ?? VersionPolicy.Default);
        if (versions.Count == 0)
        {
            errors.Add("the model folder has no version folders (e.g. '1/' holding " + modelFile + ") that its version policy selects");
            return new ModelDefinition(name, null, versions, errors, unsupported, configText) { Backend = backend };
        }

        ModelSignature? signature = null;
        try
        {
            signature = backend.Inspect(ModelFilePath(name, versions[^1], modelFile));
        }
        catch (InferenceException e)
        {
            errors.Add($"version {versions[^1]}: {e.Message}");
        }
        catch (IOException)
        {
            errors.Add($"version {versions[^1]}: {modelFile} is missing or unreadable");
        }

        System.Text.Json.JsonElement? section = draft.Root is { } config && config.TryGetProperty(backend.Name, out var own) ? own : null;
        var settings = draft.Root is { } whole ? backend.ReadSettings(whole, section, errors) : backend.ReadSettings(section, errors);
        var completed = ModelConfigCompleter.Complete(name, draft, backend, settings, signature ?? new ModelSignature([], []));
        completed = completed with
        {
            Labels = ReadLabels(folder, completed.Outputs, errors),
            SequenceBatching = ReadInitialStates(folder, completed.SequenceBatching, draft.SequenceInitialFiles, errors),
            SourceJson = draft.Root?.GetRawText(),
        };
        ModelConfigValidator.Validate(completed, name, signature, errors);
        if (backend is not Execution.IVersionRunnerFactory && completed.Inputs.FirstOrDefault(i => i.Optional) is { } optional)
        {
            errors.Add($"input '{optional.Name}' is optional, which the '{backend.Name}' backend does not honour (its runs need every input); remove 'optional'");
        }

        return new ModelDefinition(name, errors.Count == 0 ? completed : null, versions, errors, unsupported, configText) { Backend = backend };
    }

    /// <summary>
    /// <c>config.json</c> (Triton's JSON form), or Triton's own <c>config.pbtxt</c> rewritten as that JSON; none at all
    /// is fine (the model file fills everything in). Both at once is an error: which one wins would be a guess.
    /// </summary>
    private static (ModelConfigDraft Draft, string Text) ReadConfig(string folder, List<string> errors)
    {
        var json = Path.Combine(folder, "config.json");
        var text = Path.Combine(folder, "config.pbtxt");
        var hasJson = File.Exists(json);
        var hasText = File.Exists(text);
        if (hasJson && hasText)
        {
            errors.Add("the model folder has both config.json and config.pbtxt; keep one");
            return (new ModelConfigDraft(), string.Empty);
        }

        if (hasText)
        {
            var pbtxt = File.ReadAllText(text);
            return (ModelConfigReader.Read(TritonTextConfig.ToJson(pbtxt, errors), errors), pbtxt);
        }

        if (!hasJson)
        {
            return (new ModelConfigDraft(), string.Empty);
        }

        var content = File.ReadAllText(json);
        return (ModelConfigReader.Read(content, errors), content);
    }

    /// <summary>Most bytes of one label file: a million classes of short labels, not a way to fill memory.</summary>
    private const long MaxLabelFileBytes = 16L * 1024 * 1024;

    /// <summary>
    /// The class labels of outputs that name a <c>label_filename</c>: a plain file name in the model's folder (SECURITY.md
    /// A2: no path, no link out of it), one label per line, read at load.
    /// </summary>
    private Dictionary<string, IReadOnlyList<string>> ReadLabels(string folder, IReadOnlyList<TensorConfig> outputs, List<string> errors)
    {
        var labels = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var output in outputs)
        {
            if (output.LabelFile is not { } file)
            {
                continue;
            }

            var path = ModelNames.IsValid(file) ? Contained(Path.Combine(folder, file)) : null;
            var info = path is null ? null : new FileInfo(path);
            if (info is null || !info.Exists || info.LinkTarget is not null || info.Length > MaxLabelFileBytes)
            {
                errors.Add($"output '{output.Name}': label_filename '{ClientText.Quote(file)}' must be a plain file of at most {MaxLabelFileBytes >> 20} MiB in the model's folder");
                continue;
            }

            labels[output.Name] = File.ReadAllLines(path!);
        }

        return labels;
    }

    /// <summary>
    /// The initial states that come from files: raw bytes in the model's <c>initial_state/</c> folder (as Triton keeps
    /// them), as many as the state's type and dims hold.
    /// </summary>
    private SequenceBatchingConfig? ReadInitialStates(string folder, SequenceBatchingConfig? sequences, IReadOnlyDictionary<int, string> files, List<string> errors)
    {
        if (sequences is null || files.Count == 0)
        {
            return sequences;
        }

        var states = sequences.States.ToArray();
        foreach (var (index, file) in files)
        {
            var state = states[index];
            var path = ModelNames.IsValid(file) ? Contained(Path.Combine(folder, "initial_state", file)) : null;
            var info = path is null ? null : new FileInfo(path);
            if (info is null || !info.Exists || info.LinkTarget is not null || info.Length != state.RowBytes)
            {
                errors.Add($"state '{state.InputName}': initial_state data_file '{ClientText.Quote(file)}' must be a plain file in the model's initial_state/ folder " +
                    $"holding {state.RowBytes} bytes ({state.DataType.ToWireName()} {Shapes.Format(state.Dims)})");
                continue;
            }

            states[index] = state with { InitialData = File.ReadAllBytes(path!), InitialFile = file };
        }

        return sequences with { States = states };
    }

    /// <summary>
    /// What identifies a version's model file as loaded: its length and last write time. A reload keeps a running
    /// version whose stamp and configuration are unchanged instead of loading it again.
    /// </summary>
    public string VersionStamp(string name, long version, string modelFile)
    {
        var file = new FileInfo(ModelFilePath(name, version, modelFile));
        return file.Exists ? $"{file.Length}:{file.LastWriteTimeUtc.Ticks}" : "missing";
    }

    /// <summary>The path of a warm-up data file: a plain file name inside the model's <c>warmup/</c> folder.</summary>
    public string WarmupFilePath(string name, string file)
    {
        if (!ModelNames.IsValid(file))
        {
            throw new ArgumentException("not a plain file name", nameof(file));
        }

        return Contained(Path.Combine(ModelPath(name), "warmup", file));
    }

    /// <summary>The path of a version's model file, <paramref name="modelFile"/> (a plain name: the config's or the backend's).</summary>
    public string ModelFilePath(string name, long version, string modelFile)
    {
        if (!ModelNames.IsValid(modelFile))
        {
            throw new ArgumentException("not a plain file name", nameof(modelFile));
        }

        return Contained(Path.Combine(ModelPath(name), version.ToString(System.Globalization.CultureInfo.InvariantCulture), modelFile));
    }

    /// <summary>The bytes of every file in a version's folder (links not followed): what loading it reads, at least.</summary>
    public long VersionBytes(string name, long version)
    {
        var folder = new DirectoryInfo(Contained(Path.Combine(ModelPath(name), version.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        if (!folder.Exists)
        {
            return 0;
        }

        long bytes = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        foreach (var file in folder.EnumerateFiles("*", options))
        {
            bytes += file.Length;
        }

        return bytes;
    }

    private string ModelPath(string name)
    {
        if (!ModelNames.IsValid(name))
        {
            throw new ArgumentException($"'{name}' is not a valid model name", nameof(name));
        }

        return _staging.TryGet(name, out var staged) ? staged : Contained(Path.Combine(Root, name));
    }

    private string Contained(string path)
    {
        var full = Path.GetFullPath(path);
        return full.StartsWith(_rootWithSeparator, StringComparison.Ordinal)
            ? full
            : throw new ArgumentException("path escapes the model repository", nameof(path));
    }

    private static List<long> ListVersions(string folder, string modelFileName)
    {
        var versions = new List<long>();
        if (!Directory.Exists(folder))
        {
            return versions;
        }

        foreach (var directory in Directory.EnumerateDirectories(folder))
        {
            if (ModelNames.TryParseVersion(Path.GetFileName(directory), out var version) && !IsLink(directory) &&
                File.Exists(Path.Combine(directory, modelFileName)))
            {
                versions.Add(version);
            }
        }

        versions.Sort();
        return versions;
    }

    private static List<long> SelectVersions(List<long> available, VersionPolicy policy) => policy.Kind switch
    {
        "all" => available,
        "specific" => available.Where(v => policy.Versions?.Contains(v) == true).ToList(),
        _ => available.Skip(Math.Max(0, available.Count - Math.Max(1, policy.Latest))).ToList(),
    };

    private static bool IsLink(string path) => new DirectoryInfo(path).LinkTarget is not null;
}

/// <summary>What the repository holds for one model.</summary>
/// <param name="Name">The model name.</param>
/// <param name="Config">The completed, valid configuration; null when <paramref name="Errors"/> is not empty.</param>
/// <param name="Versions">The versions the policy selects, ascending.</param>
/// <param name="Errors">Every problem found.</param>
/// <param name="Unsupported">Fields of the configuration that Turbine ignores, by name (e.g. <c>optimization</c>).</param>
/// <param name="ConfigText">The configuration as read (file or override), to tell whether it changed since the last load.</param>
public sealed record ModelDefinition(string Name, ModelConfig? Config, IReadOnlyList<long> Versions, IReadOnlyList<string> Errors, IReadOnlyList<string>? Unsupported = null, string ConfigText = "")
{
    /// <summary>The backend the configuration selects; null when it names none that is registered.</summary>
    public IModelBackend? Backend { get; init; }
}
