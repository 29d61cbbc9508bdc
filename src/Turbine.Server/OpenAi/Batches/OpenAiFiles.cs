using System.Text.Json;
using System.Text.Json.Serialization;

namespace Turbine.Server.OpenAi.Batches;

/// <summary>A file of the OpenAI Files API.</summary>
internal sealed record OpenAiFile(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("purpose")] string Purpose)
{
    /// <summary>The API's object kind, written with the file.</summary>
    [JsonPropertyName("object")]
    public string Object { get; init; } = "file";
}

/// <summary>
/// The files of the Batch API, kept under the jobs folder (<c>openai/files/</c>): each file's content beside its
/// description, written to a scratch name and renamed into place, so a file that is listed is whole. Ids are
/// generated here, never taken from clients, so no name a client sends reaches a path.
/// </summary>
internal sealed class OpenAiFiles(string jobsFolder, TimeProvider time)
{
    private readonly string _root = Path.Combine(jobsFolder, "openai", "files");

    public async Task<OpenAiFile> SaveAsync(Stream content, string filename, string purpose, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_root);
        var id = "file-" + Guid.NewGuid().ToString("N")[..24];
        var scratch = ContentPath(id) + ".tmp";
        long bytes;
        await using (var file = File.Create(scratch))
        {
            await content.CopyToAsync(file, cancellationToken);
            bytes = file.Length;
        }

        File.Move(scratch, ContentPath(id));
        var record = new OpenAiFile(id, bytes, time.GetUtcNow().ToUnixTimeSeconds(), Path.GetFileName(filename), purpose);
        await File.WriteAllTextAsync(MetaPath(id), JsonSerializer.Serialize(record), cancellationToken);
        return record;
    }

    /// <summary>A file written by the server itself (a batch's output), under an id of its choosing.</summary>
    public async Task<OpenAiFile> SaveTextAsync(string id, string text, string filename, string purpose, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_root);
        var scratch = ContentPath(id) + ".tmp";
        await File.WriteAllTextAsync(scratch, text, cancellationToken);
        File.Move(scratch, ContentPath(id), overwrite: true);
        var record = new OpenAiFile(id, new FileInfo(ContentPath(id)).Length, time.GetUtcNow().ToUnixTimeSeconds(), filename, purpose);
        await File.WriteAllTextAsync(MetaPath(id), JsonSerializer.Serialize(record), cancellationToken);
        return record;
    }

    public OpenAiFile? Find(string id) =>
        IsId(id) && File.Exists(MetaPath(id)) ? JsonSerializer.Deserialize<OpenAiFile>(File.ReadAllText(MetaPath(id))) : null;

    public List<OpenAiFile> List() => !Directory.Exists(_root) ? []
        : [.. Directory.EnumerateFiles(_root, "*.json").Select(p => JsonSerializer.Deserialize<OpenAiFile>(File.ReadAllText(p))!).OrderByDescending(f => f.CreatedAt)];

    public string ContentPath(string id) => Path.Combine(_root, id + ".data");

    public bool Delete(string id)
    {
        if (Find(id) is null)
        {
            return false;
        }

        File.Delete(MetaPath(id));
        File.Delete(ContentPath(id));
        return true;
    }

    /// <summary>Whether a client's id can be a file's: ours are <c>file-</c> and letters, digits or dashes, nothing that walks a path.</summary>
    private static bool IsId(string id) => id.StartsWith("file-", StringComparison.Ordinal) && id.Length <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_');

    private string MetaPath(string id) => Path.Combine(_root, id + ".json");
}
