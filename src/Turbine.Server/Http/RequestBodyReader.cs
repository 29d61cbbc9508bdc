using System.Buffers;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;

namespace Turbine.Server.Http;

/// <summary>
/// Reads a whole request body into one pooled array, decompressing gzip/deflate bodies and counting the
/// decompressed bytes against the limit while streaming (SECURITY.md A7).
/// </summary>
internal static class RequestBodyReader
{
    public sealed class Body(byte[] array, int length) : IDisposable
    {
        private byte[]? _array = array;

        public ReadOnlySpan<byte> Span => _array.AsSpan(0, length);

        public int Length => length;

        public void Dispose()
        {
            var array = Interlocked.Exchange(ref _array, null);
            if (array is not null)
            {
                ArrayPool<byte>.Shared.Return(array);
            }
        }
    }

    private static InferenceError TooLarge(long limit) =>
        InferenceError.Invalid($"the request body is larger than {limit} bytes (after decompression)");

    /// <summary>Reads the body, or answers the request with why it cannot be read and returns null.</summary>
    public static async Task<Body?> ReadOrRefuseAsync(HttpContext context, long limit)
    {
        var (body, error) = await ReadAsync(context.Request, limit);
        if (error is not null)
        {
            await HttpResults.WriteErrorAsync(context, error);
        }

        return body;
    }

    public static async Task<(Body? Body, InferenceError? Error)> ReadAsync(HttpRequest request, long limit)
    {
        var encoding = request.Headers.ContentEncoding.ToString();
        Stream source = encoding switch
        {
            "" or "identity" => request.Body,
            "gzip" => new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true),
            "deflate" => new ZLibStream(request.Body, CompressionMode.Decompress, leaveOpen: true),
            _ => Stream.Null,
        };
        if (source == Stream.Null)
        {
            return (null, InferenceError.Invalid($"unsupported Content-Encoding '{encoding}'; use gzip, deflate or none"));
        }

        // Room for one byte past the limit, so that a body of exactly the limit is told apart from a longer one.
        var initial = request.ContentLength is > 0 and var length && length <= limit && encoding.Length == 0 ? (int)Math.Min(length + 1, Array.MaxLength) : 16 * 1024;
        var array = ArrayPool<byte>.Shared.Rent(initial);
        var total = 0;
        try
        {
            while (true)
            {
                if (total == array.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(limit + 1, (long)array.Length * 2), Array.MaxLength));
                    array.AsSpan(0, total).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(array);
                    array = larger;
                }

                var read = await source.ReadAsync(array.AsMemory(total, (int)Math.Min(array.Length - total, limit + 1 - total)), request.HttpContext.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                total += read;
                if (total > limit)
                {
                    ArrayPool<byte>.Shared.Return(array);
                    return (null, TooLarge(limit));
                }
            }

            return (new Body(array, total), null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's own limit (a Content-Length over it): answered here with a JSON error, not Kestrel's empty 413.
            ArrayPool<byte>.Shared.Return(array);
            return (null, TooLarge(limit));
        }
        catch (InvalidDataException)
        {
            ArrayPool<byte>.Shared.Return(array);
            return (null, InferenceError.Invalid($"the request body is not valid {encoding} data"));
        }
        finally
        {
            if (!ReferenceEquals(source, request.Body))
            {
                await source.DisposeAsync();
            }
        }
    }
}
