using Warden.Server.Configuration;

namespace Warden.Server.Tests.Configuration;

/// <summary>zoo.cfg pointing at a zoo.cfg.dynamic.&lt;hex&gt; file that holds the server.N lines.</summary>
public sealed class DynamicConfigTests : IDisposable
{
    private readonly ConfigSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private string DataDirWithMyId(string myId)
    {
        string dataDir = _sandbox.MakeDirectory("data");
        _sandbox.WriteMyId("data", myId);
        return dataDir;
    }

    [Fact]
    public void TheEnsembleComesFromTheDynamicFileAndItsVersionFromTheFileName()
    {
        string dataDir = DataDirWithMyId("2");
        _sandbox.WriteConfig(
            "server.1=localhost:2888:3888:participant;2181\nserver.2=localhost:2889:3889:participant;2182\nserver.3=localhost:2890:3890:participant;2183\n",
            "zoo.cfg.dynamic.100000000");

        ServerConfig config = _sandbox.LoadValid(
            $"dataDir={dataDir}\ninitLimit=5\nsyncLimit=2\nreconfigEnabled=true\ndynamicConfigFile={{root}}/zoo.cfg.dynamic.100000000\n");

        Assert.True(config.IsDistributed);
        Assert.Equal(3, config.Servers.Count);
        Assert.Equal(2182, config.ClientPort);
        Assert.Equal(0x100000000, config.DynamicConfigVersion);
        Assert.Equal(_sandbox.PathOf("zoo.cfg.dynamic.100000000"), config.DynamicConfigFilePath);
        Assert.True(config.ReconfigEnabled);
    }

    [Fact]
    public void ServerLinesInZooCfgAreRefusedWhenADynamicFileIsNamed()
    {
        _sandbox.WriteConfig("server.1=localhost:2888:3888\n", "zoo.cfg.dynamic");

        ConfigLoadResult result = _sandbox.Load("dataDir=d\nserver.1=localhost:2888:3888\ndynamicConfigFile=zoo.cfg.dynamic\n");

        Assert.Equal(
            "zoo.cfg line 2: server.1 must be in the dynamic config file when dynamicConfigFile is set; move the line there or remove dynamicConfigFile",
            Assert.Single(result.Errors));
    }

    [Theory]
    [InlineData("clientPort=2181", "zoo.cfg.dynamic.1 line 2: clientPort does not belong in a dynamic config file, which holds only server.N lines; move it to zoo.cfg")]
    [InlineData("version=1", "zoo.cfg.dynamic.1 line 2: a dynamic config file must not hold version (its version is the hex number at the end of the file name); remove the line")]
    [InlineData("server.2=localhost:2889", "zoo.cfg.dynamic.1 line 2 (server.2): \"localhost:2889\" is not a server address; write it as host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort], e.g. localhost:2888:3888")]
    public void WhatDoesNotBelongInTheDynamicFileIsNamedWithItsLine(string line, string expected)
    {
        _sandbox.WriteConfig($"server.1=localhost:2888:3888\n{line}\n", "zoo.cfg.dynamic.1");

        ConfigLoadResult result = _sandbox.Load("dataDir=d\ndynamicConfigFile=zoo.cfg.dynamic.1\n");

        Assert.Equal(expected, Assert.Single(result.Errors));
    }

    [Fact]
    public void AMissingDynamicFile()
    {
        ConfigLoadResult result = _sandbox.Load("dataDir=d\ndynamicConfigFile=gone.dynamic\n");

        Assert.Equal(
            $"zoo.cfg line 2: dynamicConfigFile {_sandbox.PathOf("gone.dynamic")} does not exist; restore it, or copy its server.N lines into zoo.cfg and remove dynamicConfigFile",
            Assert.Single(result.Errors));
    }
}
