package dev.groupscope.sdkcheck;

import com.amplitude.Amplitude;
import com.amplitude.AmplitudeCallbacks;
import com.amplitude.AmplitudeLog;
import com.amplitude.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;

/**
 * Sends what an account-analytics customer sends with the official Amplitude Java SDK, to the server URL it is given
 * (the gateway over HTTPS; the JVM trusts the local CA through javax.net.ssl.trustStore):
 *
 * <ol>
 *   <li>a group identify: company {company} gets plan=enterprise, seats=40;
 *   <li>identifies that put alice and bob in that company (user-level groups, as setGroup does) with a role;
 *   <li>events: alice's "Invoice Sent", bob's "Payment Received" (both attributed to the company through their
 *       user-level group) and carol's "Invoice Sent" with an event-level group (company {company}-other).
 * </ol>
 *
 * Each step waits for the SDK's callbacks before the next, because groupscope applies a group or user update to the
 * events it receives after it. Prints one line per event ("status event_type insert_id") and exits 0 only when the
 * gateway answered 200 to every one.
 *
 * <p>Usage: SendEvents SERVER_URL API_KEY RUN_ID (RUN_ID makes user ids, company names and insert ids unique).
 */
public final class SendEvents {
  private static final long STEP_TIMEOUT_S = 60;

  private record Reply(String eventType, String insertId, int status, String message) {}

  private static final ConcurrentLinkedQueue<Reply> replies = new ConcurrentLinkedQueue<>();

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: SendEvents SERVER_URL API_KEY RUN_ID");
      System.exit(2);
    }
    String serverUrl = args[0];
    String apiKey = args[1];
    String run = args[2];
    String company = "acme-" + run;
    String alice = "alice-" + run + "@acme.test";
    String bob = "bob-" + run + "@acme.test";
    String carol = "carol-" + run + "@globex.test";

    Amplitude amplitude = Amplitude.getInstance("groupscope-" + run);
    amplitude.init(apiKey);
    amplitude.setServerUrl(serverUrl);
    amplitude.setLogMode(AmplitudeLog.LogMode.ERROR);

    // the Java SDK has no Identify builder: identify and group identify are events with Amplitude's reserved types
    Event groupIdentify = new Event("$groupidentify", alice);
    groupIdentify.groups = new JSONObject().put("company", company);
    groupIdentify.groupProperties = new JSONObject().put("$set", new JSONObject(Map.of("plan", "enterprise", "seats", 40)));
    groupIdentify.insertId = run + "-group-identify";
    boolean ok = step(amplitude, List.of(groupIdentify));

    List<Event> identifies = new ArrayList<>();
    for (String user : List.of(alice, bob)) {
      Event identify = new Event("$identify", user);
      identify.userProperties = new JSONObject().put("$set", new JSONObject(Map.of("company", company, "role", user.equals(alice) ? "admin" : "member")));
      identify.groups = new JSONObject().put("company", company);
      identify.insertId = run + "-identify-" + user;
      identifies.add(identify);
    }
    ok &= step(amplitude, identifies);

    Event invoice = new Event("Invoice Sent", alice);
    invoice.eventProperties = new JSONObject().put("amount", 120);
    invoice.insertId = run + "-invoice-alice";
    Event payment = new Event("Payment Received", bob);
    payment.eventProperties = new JSONObject().put("amount", 120);
    payment.insertId = run + "-payment-bob";
    Event other = new Event("Invoice Sent", carol);
    other.groups = new JSONObject().put("company", company + "-other");
    other.insertId = run + "-invoice-carol";
    ok &= step(amplitude, List.of(invoice, payment, other));

    amplitude.shutdown();
    System.out.println((ok ? "ok" : "failed") + ": " + replies.size() + " events answered");
    System.exit(ok ? 0 : 1);
  }

  /** Logs the events, flushes, and waits for every callback; true when all were answered 200. */
  private static boolean step(Amplitude amplitude, List<Event> events) throws InterruptedException {
    CountDownLatch answered = new CountDownLatch(events.size());
    AmplitudeCallbacks callbacks = new AmplitudeCallbacks() {
      @Override
      public void onLogEventServerResponse(Event event, int status, String message) {
        replies.add(new Reply(event.eventType, event.insertId, status, message));
        System.out.println(status + " " + event.eventType + " " + event.insertId + (status == 200 ? "" : " " + message));
        answered.countDown();
      }
    };
    for (Event e : events) amplitude.logEvent(e, callbacks);
    amplitude.flushEvents();
    if (!answered.await(STEP_TIMEOUT_S, TimeUnit.SECONDS)) {
      System.out.println("timeout: " + answered.getCount() + " of " + events.size() + " events unanswered after " + STEP_TIMEOUT_S + " s");
      return false;
    }
    return replies.stream().filter(r -> events.stream().anyMatch(e -> e.insertId.equals(r.insertId()))).allMatch(r -> r.status() == 200);
  }
}
