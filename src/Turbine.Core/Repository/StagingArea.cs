using System.Collections.Concurrent;

namespace Turbine.Core.Repository;

/// <summary>
/// Model folders written from load requests that carry the model's files (Triton's <c>file:</c> parameters): each
/// upload gets a fresh folder under <c>&lt;repository&gt;/.staging/</c>, written whole before anything reads it, and
/// serves in place of the repository's own folder of that name until a load without files or a newer upload
/// replaces it. Uploads live as long as the process, as in Triton: the staging folder is emptied at start.
/// </summary>
internal sealed class StagingArea
{
    /// <summary>Not a valid model name (a leading dot), so the repository scan never takes it for a model.</summary>
    public const string FolderName = ".staging";

    /// <summary>Most files in one upload.</summary>
    public const int MaxFiles = 64;

    private readonly string _root;
    private readonly ConcurrentDictionary<string, string> _folders = new(StringComparer.Ordinal);

    public StagingArea(string repositoryRoot)
    {
        _root = Path.Combine(repositoryRoot, FolderName);
        TryDelete(_root); // what a previous process staged serves no more
    }

    /// <summary>The models served from an upload now.</summary>
    public ICollection<string> Models => _folders.Keys;

    public bool TryGet(string model, out string folder) => _folders.TryGetValue(model, out folder!);

    /// <summary>
    /// Why <paramref name="files"/> cannot be staged (SECURITY.md A2/A3: a path is a version folder and a plain file
    /// name, or a plain file name; no config file, which comes as the <c>config</c> parameter), or null.
    /// </summary>
    public static string? Check(IReadOnlyList<ModelFileUpload> files)
    {
        if (files.Count > MaxFiles)
        {
            return $"a load request may carry at most {MaxFiles} files, not {files.Count}";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var slash = file.Path.IndexOf('/', StringComparison.Ordinal);
            var name = slash < 0 ? file.Path : file.Path[(slash + 1)..];
            var valid = ModelNames.IsValid(name) && (slash < 0 ? name is not "config.json" and not "config.pbtxt" : ModelNames.TryParseVersion(file.Path.AsSpan(0, slash), out _));
            if (!valid)
            {
                return $"'file:{ClientText.Quote(file.Path)}' must name a file as '<version>/<file name>' or '<file name>' (no other folders, no config file: send it as 'config')";
            }

            if (!seen.Add(file.Path))
            {
                return $"'file:{ClientText.Quote(file.Path)}' is sent twice";
            }
        }

        return null;
    }

    /// <summary>Writes a fresh folder holding <paramref name="config"/> as config.json and the files; returns it.</summary>
    public string Write(string model, string config, IReadOnlyList<ModelFileUpload> files)
    {
        var folder = Path.Combine(_root, $"{model}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "config.json"), config);
            foreach (var file in files)
            {
                var path = Path.Combine(folder, file.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                stream.Write(file.Content.Span);
            }

            return folder;
        }
        catch
        {
            TryDelete(folder);
            throw;
        }
    }

    /// <summary>Serves <paramref name="model"/> from <paramref name="folder"/> (null: from the repository's own folder); returns the folder it served from before.</summary>
    public string? Use(string model, string? folder)
    {
        string? previous;
        if (folder is null)
        {
            _folders.TryRemove(model, out previous);
        }
        else
        {
            previous = _folders.TryGetValue(model, out var current) ? current : null;
            _folders[model] = folder;
        }

        return previous;
    }

    /// <summary>Deletes a staged folder nothing serves from any more.</summary>
    public void Discard(string? folder)
    {
        if (folder is not null && folder.StartsWith(_root, StringComparison.Ordinal))
        {
            TryDelete(folder);
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next start's clean-up: a folder nothing serves from costs disk, never a wrong answer.
        }
    }
}
