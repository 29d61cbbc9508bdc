using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Turbine.Edge.Updates.Tuf;

namespace Turbine.Edge.Updates;

/// <summary>
/// Downloads a signed target into a folder, resuming where a cut connection (or a lost process) left off: the bytes
/// go to <c>SHA.part</c>, a later attempt asks for the rest with a range request, and the file becomes <c>SHA</c>
/// only once its length and SHA-256 are the ones the targets metadata signed. It never reads past the signed length.
/// </summary>
public sealed class TargetDownloader(HttpClient http, Uri targetsUrl, string folder)
{
    private const int ChunkBytes = 64 * 1024;

    /// <summary>Called after each chunk is on disk (the fault points hook in here).</summary>
    public Action<long>? ChunkWritten { get; init; }

    /// <summary>The verified file for <paramref name="target"/>, downloading what is missing.</summary>
    public async Task<string> DownloadAsync(TargetFile target, bool consistentSnapshot, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var complete = Path.Combine(folder, target.Sha256);
        if (File.Exists(complete))
        {
            if (await DigestAsync(complete, cancellationToken) == target.Sha256)
            {
                return complete;
            }

            File.Delete(complete);
        }

        var partial = complete + ".part";
        await FetchRestAsync(target, consistentSnapshot, partial, cancellationToken);
        if (await DigestAsync(partial, cancellationToken) != target.Sha256)
        {
            File.Delete(partial); // the bytes are not the signed ones: start over next time rather than resume on them
            throw new TufException(TufFailure.DigestMismatch, $"{target.Path}: the downloaded bytes' SHA-256 is not the signed {target.Sha256}");
        }

        File.Move(partial, complete, overwrite: true);
        DurableFile.FlushFolder(folder);
        return complete;
    }

    /// <summary>Removes downloads other than the ones to keep (a finished update's bundle, abandoned parts).</summary>
    public static void Prune(string folder, IEnumerable<string> keepSha256)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        var keep = keepSha256.ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(folder))
        {
            if (!keep.Contains(Path.GetFileName(file).Replace(".part", string.Empty, StringComparison.Ordinal)))
            {
                File.Delete(file);
            }
        }
    }

    private async Task FetchRestAsync(TargetFile target, bool consistentSnapshot, string partial, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None);
        if (file.Length > target.Length)
        {
            file.SetLength(0);
        }

        if (file.Length == target.Length)
        {
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(targetsUrl, target.RemotePath(consistentSnapshot)));
        if (file.Length > 0)
        {
            request.Headers.Range = new RangeHeaderValue(file.Length, null);
        }

        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == file.Length)
            {
                file.Seek(0, SeekOrigin.End);
            }
            else if (response.StatusCode == HttpStatusCode.OK)
            {
                file.SetLength(0); // the server ignored the range: the whole file comes again
            }
            else
            {
                throw new TufException(TufFailure.Unavailable, $"{target.Path}: the server answered {(int)response.StatusCode}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[ChunkBytes];
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (file.Position + read > target.Length)
                {
                    file.SetLength(0);
                    throw new TufException(TufFailure.TooLarge, $"{target.Path} is longer than the {target.Length} bytes signed");
                }

                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await file.FlushAsync(cancellationToken);
                ChunkWritten?.Invoke(file.Position);
            }

            file.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            file.Flush(flushToDisk: true); // what arrived stays: the next attempt asks for the rest
            throw new TufException(TufFailure.Unavailable, $"{target.Path}: the download broke off after {file.Length} of {target.Length} bytes ({e.Message})", e);
        }
    }

    private static async Task<string> DigestAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}
