using System.Net;
using Microsoft.Extensions.Options;

namespace Turbine.Server.Hosting;

/// <summary>Checks the server options at start and reports every problem at once.</summary>
internal static class TurbineServerOptionsValidator
{
    public static void ThrowIfInvalid(TurbineServerOptions options)
    {
        var errors = new List<string>();
        if (!IPAddress.TryParse(options.Host, out _))
        {
            errors.Add($"Host '{options.Host}' is not an IP address");
        }

        foreach (var (name, port, min) in new[] { ("HttpPort", options.HttpPort, 0), ("GrpcPort", options.GrpcPort, 0), ("MetricsPort", options.MetricsPort, -1) })
        {
            if (port < min || port > 65535)
            {
                errors.Add($"{name} {port} is not a port number");
            }
        }

        if (options.HttpPort != 0 && (options.HttpPort == options.GrpcPort || options.HttpPort == options.MetricsPort || options.GrpcPort == options.MetricsPort))
        {
            errors.Add("HttpPort, GrpcPort and MetricsPort must differ");
        }

        if (options.MaxRequestBodyBytes is < 1024 or > int.MaxValue)
        {
            errors.Add("MaxRequestBodyBytes must be between 1 KiB and 2 GiB");
        }

        if (options.MaxGrpcMessageBytes < 1024)
        {
            errors.Add("MaxGrpcMessageBytes must be at least 1 KiB");
        }

        if (options.ReplicaId is { } replica && !Core.Repository.ModelNames.IsValid(replica))
        {
            errors.Add($"ReplicaId '{replica}' must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }

        if (options.Tracing.SampleRatio is < 0 or > 1 || options.Observer.SampleRate is < 0 or > 1)
        {
            errors.Add("Tracing:SampleRatio and Observer:SampleRate must be between 0 and 1");
        }

        if (options.Observer.Capacity < 1)
        {
            errors.Add("Observer:Capacity must be at least 1");
        }

        if (options.Tracing.OtlpEndpoint is { } otlp && !Uri.TryCreate(otlp, UriKind.Absolute, out _))
        {
            errors.Add($"Tracing:OtlpEndpoint '{otlp}' is not an absolute URI");
        }

        if (options.OnnxRuntimeThreads < 0)
        {
            errors.Add("OnnxRuntimeThreads must be 0 (the cores) or more");
        }

        options.ModelScan.Validate(errors);
        if (options.Registry.Follow.Count > 0 && options.Registry.Folder is null)
        {
            errors.Add("Registry:Follow needs Registry:Folder (the registry's artifacts and, without Registry:Postgres, its metadata)");
        }

        foreach (var followed in options.Registry.Follow.Where(f => !Turbine.Server.Registry.FollowedModel.TryParse(f, out _)))
        {
            errors.Add($"Registry:Follow '{ClientText.Quote(followed)}' is not model@alias or model@version");
        }

        if (options.Registry.PollInterval < TimeSpan.FromMilliseconds(50))
        {
            errors.Add("Registry:PollInterval must be at least 50 ms");
        }

        if (options.Jobs.Workers is < 0 or > 64)
        {
            errors.Add($"Jobs:Workers must be 0 to 64, got {options.Jobs.Workers}");
        }

        if (options.Jobs.PollInterval < TimeSpan.FromMilliseconds(10))
        {
            errors.Add("Jobs:PollInterval must be at least 10 ms");
        }

        if (options.Jobs.Folder is null && options.Jobs.Postgres is not null)
        {
            errors.Add("Jobs:Postgres needs Jobs:Folder (the jobs' local data folder and scratch space)");
        }

        if (options.StateSyncInterval is { } sync && (sync < TimeSpan.FromMilliseconds(100) || sync > TimeSpan.FromMinutes(10)))
        {
            errors.Add("StateSyncInterval must be between 100 ms and 10 minutes");
        }

        if (options.ResponseCacheRedisTtl <= TimeSpan.Zero)
        {
            errors.Add("ResponseCacheRedisTtl must be positive");
        }

        if (options.PinnedPoolBytes < 0 || options.PinnedPoolIdle <= TimeSpan.Zero)
        {
            errors.Add("PinnedPoolBytes must be 0 (no pooling) or positive, and PinnedPoolIdle positive");
        }

        if (options.ResponseCacheBytes < 0)
        {
            errors.Add("ResponseCacheBytes must be 0 (off) or positive");
        }

        if (options.MaxJsonDepth is < 4 or > 256)
        {
            errors.Add("MaxJsonDepth must be between 4 and 256");
        }

        if (options.RequestHeadersTimeout < TimeSpan.FromSeconds(1) || options.RequestHeadersTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add("RequestHeadersTimeout must be between 1 second and 10 minutes");
        }

        if (options.ExitTimeout <= TimeSpan.Zero || options.ShutdownDelay < TimeSpan.Zero || options.ShutdownDelay >= options.ExitTimeout)
        {
            errors.Add("ExitTimeout must be positive, and ShutdownDelay between 0 and less than ExitTimeout (the delay is part of the exit countdown)");
        }

        if (options.ModelControlMode == ModelControlMode.Poll && options.RepositoryPollInterval < TimeSpan.FromMilliseconds(10))
        {
            errors.Add("RepositoryPollInterval must be at least 10 ms");
        }

        ValidatePaging(options, errors);
        if (options.Dashboard.Interval < TimeSpan.FromMilliseconds(100) || options.Dashboard.History < options.Dashboard.Interval || options.Dashboard.History / options.Dashboard.Interval > 100_000)
        {
            errors.Add("Dashboard:Interval must be at least 100 ms, and Dashboard:History hold between 1 and 100000 intervals");
        }

        var tls = options.Tls;
        if (tls.CertificateFile is { Length: > 0 } || tls.KeyFile is { Length: > 0 } || tls.ClientCertificateAuthorityFile is { Length: > 0 })
        {
            foreach (var (name, file) in new[] { ("Tls:CertificateFile", tls.CertificateFile), ("Tls:KeyFile", tls.KeyFile) })
            {
                if (string.IsNullOrEmpty(file) || !File.Exists(file))
                {
                    errors.Add($"{name} must name an existing PEM file when TLS is configured");
                }
            }

            if (tls.ClientCertificateAuthorityFile is { Length: > 0 } ca && !File.Exists(ca))
            {
                errors.Add("Tls:ClientCertificateAuthorityFile must name an existing PEM file");
            }
        }

        foreach (var key in options.ApiKeys)
        {
            if (string.IsNullOrEmpty(key.Key) == string.IsNullOrEmpty(key.KeyFile))
            {
                errors.Add("every ApiKeys entry needs exactly one of Key and KeyFile");
            }
            else if (key.Key is { Length: < 16 })
            {
                errors.Add("API keys need at least 16 characters");
            }
        }

        var restricted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var restriction in options.RestrictedApi)
        {
            if (!Http.RestrictedApis.TryParse(restriction, out var groups, out _, out _, out var error))
            {
                errors.Add(error!);
            }
            else if (groups!.FirstOrDefault(g => !restricted.Add(g)) is { } twice)
            {
                errors.Add($"RestrictedApi restricts '{twice}' more than once");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ModelRepository))
        {
            errors.Add("ModelRepository must name a folder");
        }

        if (errors.Count > 0)
        {
            throw new OptionsValidationException(TurbineServerOptions.Section, typeof(TurbineServerOptions), errors);
        }
    }

    private static void ValidatePaging(TurbineServerOptions options, List<string> errors)
    {
        var paging = options.ModelPaging;
        if (paging.BudgetBytes < 0 || paging.GpuBudgetBytes < 0 || paging.MaxWait < TimeSpan.Zero)
        {
            errors.Add("ModelPaging:BudgetBytes and GpuBudgetBytes must be 0 (off) or positive, and MaxWait 0 or more");
        }

        if (!paging.Enabled)
        {
            return;
        }

        if (options.ModelControlMode == ModelControlMode.Poll)
        {
            errors.Add("ModelPaging loads models on demand; the poll model control mode loads every model the repository holds: use none or explicit");
        }

        foreach (var name in paging.Pinned)
        {
            if (!Core.Repository.ModelNames.IsValid(name))
            {
                errors.Add($"ModelPaging:Pinned '{name}' is not a valid model name");
            }
        }
    }
}
