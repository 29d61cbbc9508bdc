using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Turbine.IntegrationTests;

/// <summary>Keeps every log record (event id and formatted message), to check what reaches the logs.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(int EventId, string Message)> Records { get; } = new();

    public IEnumerable<string> Messages => Records.Select(r => r.Message);

    public ILogger CreateLogger(string categoryName) => new Logger(Records);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<(int EventId, string Message)> records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            records.Enqueue((eventId.Id, formatter(state, exception)));
    }
}
