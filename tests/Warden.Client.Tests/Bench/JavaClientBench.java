import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

// The yardstick: Apache's Java client doing the same pipelined workload as the .NET benchmark.
// Arguments: connectString path operation(get|set) count window. Prints "ops/s <number>".
public final class JavaClientBench {
    public static void main(String[] args) throws Exception {
        String connect = args[0];
        String path = args[1];
        String operation = args[2];
        int count = Integer.parseInt(args[3]);
        int window = Integer.parseInt(args[4]);
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 30000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        connected.await();
        byte[] data = new byte[100];
        try {
            zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException ignored) {
            // Shared with the .NET run.
        }
        run(zk, path, operation, Math.max(1, count / 10), window, data);
        long start = System.nanoTime();
        run(zk, path, operation, count, window, data);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.println("ops/s " + (long) (count / seconds));
        zk.close();
    }

    private static void run(ZooKeeper zk, String path, String operation, int count, int window, byte[] data) throws Exception {
        Semaphore slots = new Semaphore(window);
        CountDownLatch done = new CountDownLatch(count);
        AsyncCallback.DataCallback onGet = (rc, p, ctx, d, stat) -> { check(rc); slots.release(); done.countDown(); };
        AsyncCallback.StatCallback onSet = (rc, p, ctx, stat) -> { check(rc); slots.release(); done.countDown(); };
        for (int i = 0; i < count; i++) {
            slots.acquire();
            if (operation.equals("get")) zk.getData(path, false, onGet, null);
            else zk.setData(path, data, -1, onSet, null);
        }
        done.await();
    }

    private static void check(int rc) {
        if (rc != 0) throw new IllegalStateException("request failed with " + rc);
    }
}
