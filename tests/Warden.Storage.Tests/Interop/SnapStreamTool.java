import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.jute.BinaryInputArchive;
import org.apache.jute.BinaryOutputArchive;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.DataNode;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.ZKDatabase;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;

/**
 * Drives Apache ZooKeeper's own SNAP-stream code for the interop tests, run as a single-file program.
 *   write DATADIR OUT   loads DATADIR as a server would and writes the stream a leader sends after SNAP
 *   read IN WORKDIR     reads a stream as a learner does, checks the signature, and prints each node and session
 * Nodes print as JSON lines in the shape of dump_tree.py (client stat), then "session <id> <timeout>" lines.
 */
public class SnapStreamTool {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("write")) {
            File dir = new File(args[1]);
            ZKDatabase db = new ZKDatabase(new FileTxnSnapLog(dir, dir));
            db.loadDataBase();
            try (OutputStream out = new BufferedOutputStream(new FileOutputStream(args[2]))) {
                BinaryOutputArchive archive = BinaryOutputArchive.getArchive(out);
                db.serializeSnapshot(archive);
                archive.writeString("BenWasHere", "signature");
            }
            System.out.println(Long.toHexString(db.getDataTreeLastProcessedZxid()));
        } else {
            File work = new File(args[2]);
            ZKDatabase db = new ZKDatabase(new FileTxnSnapLog(work, work));
            try (InputStream in = new BufferedInputStream(new FileInputStream(args[1]))) {
                BinaryInputArchive archive = BinaryInputArchive.getArchive(in);
                db.deserializeSnapshot(archive);
                String signature = archive.readString("signature");
                if (!signature.equals("BenWasHere")) {
                    throw new IllegalStateException("signature " + signature);
                }
                if (in.read() != -1) {
                    throw new IllegalStateException("bytes after the signature");
                }
            }
            print(db.getDataTree(), "/");
            for (Map.Entry<Long, Integer> session : db.getSessionWithTimeOuts().entrySet()) {
                System.out.println("session " + Long.toHexString(session.getKey()) + " " + session.getValue());
            }
        }
    }

    private static void print(DataTree tree, String path) {
        DataNode node = tree.getNode(path);
        Stat stat = new Stat();
        node.copyStat(stat);
        byte[] data = node.getData();
        List<String> acls = new ArrayList<>();
        for (ACL acl : tree.getACL(node)) {
            acls.add(quote(acl.getId().getScheme() + ":" + acl.getId().getId() + ":" + acl.getPerms()));
        }
        System.out.println("{\"path\": " + quote(path)
            + ", \"data\": " + (data == null ? "null" : quote(Base64.getEncoder().encodeToString(data)))
            + ", \"stat\": [" + stat.getCzxid() + ", " + stat.getMzxid() + ", " + stat.getCtime() + ", "
            + stat.getMtime() + ", " + stat.getVersion() + ", " + stat.getCversion() + ", " + stat.getAversion() + ", "
            + stat.getEphemeralOwner() + ", " + stat.getDataLength() + ", " + stat.getNumChildren() + ", "
            + stat.getPzxid() + "], \"acl\": [" + String.join(", ", acls) + "]}");
        for (String child : new TreeSet<>(node.getChildren())) {
            print(tree, (path.equals("/") ? "" : path) + "/" + child);
        }
    }

    private static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
