-- (r) on the proxy: the routing function alone, the proxy's own work
-- before each call's hop.
SELECT assoc_proxy.route('bench');
