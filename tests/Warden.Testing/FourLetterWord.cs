using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Warden.Testing;

/// <summary>What test harnesses share about a server: asking a four-letter word, and writing a zoo.cfg.</summary>
public static class FourLetterWord
{
    /// <summary>Sends the word and reads the answer until the server closes the connection, within the timeout.</summary>
    public static async Task<string> AskAsync(IPEndPoint endPoint, string word, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint, timeoutSource.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(word), SocketFlags.None, timeoutSource.Token);
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeoutSource.Token);
            if (read == 0)
            {
                return Encoding.UTF8.GetString(answer.ToArray());
            }
            answer.Write(buffer, 0, read);
        }
    }

    /// <summary>
    /// A zoo.cfg from settings, with <paramref name="extraConfig"/> added or overriding; keys in a stable order so
    /// that a failing configuration can be reproduced from the message.
    /// </summary>
    public static string ZooConfig(SortedDictionary<string, string> settings, IReadOnlyDictionary<string, string>? extraConfig)
    {
        if (extraConfig is not null)
        {
            foreach (var (key, value) in extraConfig)
            {
                settings[key] = value;
            }
        }
        var builder = new StringBuilder();
        foreach (var (key, value) in settings)
        {
            builder.Append(key).Append('=').Append(value).Append('\n');
        }
        return builder.ToString();
    }
}
