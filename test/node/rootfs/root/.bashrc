# Kept light on purpose: sshd has bash read this for every command, and the extension runs many.
[ -z "$PS1" ] && return
PS1='\u@\h:\w\$ '
